import Foundation
import NIOSSL
import StorageAdapter

/// CA certificates trusted for the endpoint besides the system's: self-hosted Ceph or MinIO
/// often serves TLS with a private CA. Read once when the adapter opens, so a wrong path or a
/// file that is not PEM fails there, in one line, instead of at the first handshake.
struct S3Trust: Sendable {
    let file: String
    let certificates: [NIOSSLCertificate]

    /// `ca-file=` of the URL, else `caBundle` (the caller's `$AWS_CA_BUNDLE`); nil when neither.
    static func load(location: S3Location, caBundle: String?) throws -> S3Trust? {
        guard let file = location.caFile ?? caBundle.flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw StorageError.unusableLocation("S3 location \(location): CA file \(file) cannot be read")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw StorageError.unusableLocation("S3 location \(location): CA file \(file) holds no PEM certificate")
        }
        guard !certificates.isEmpty else {
            throw StorageError.unusableLocation("S3 location \(location): CA file \(file) holds no PEM certificate")
        }
        return S3Trust(file: file, certificates: certificates)
    }
}
