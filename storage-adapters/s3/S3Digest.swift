import Crypto
import Foundation

/// Content-MD5: S3 requires it for writes under Object Lock (an integrity check, not security).
enum S3Digest {
    static func md5Base64(_ data: Data) -> String {
        Data(Insecure.MD5.hash(data: data)).base64EncodedString()
    }
}
