import NIOSSL

extension ServerConfiguration.TLSFiles {
    /// The server side of TLS from the two PEM files; an unreadable file is a start-up error
    /// naming it.
    func serverConfiguration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw ServerError.startup("cannot read the TLS certificate \(certificate): \(error)")
        }
        guard !chain.isEmpty else { throw ServerError.startup("no certificate in \(certificate)") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw ServerError.startup("cannot read the TLS key \(key): \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
    }
}
