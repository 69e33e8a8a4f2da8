import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Every domain XML this process parses goes through here. Foundation's XMLDocument on Linux
/// sets libxml2's process-wide parser defaults around each parse, so two threads parsing at
/// once can hand one of them a null document and crash the process (seen: the agent's
/// inventory beside a drill's sandbox rewrite). Parses take turns; they take well under a
/// millisecond.
public enum XMLParsing {
    private static let lock = NSLock()

    public static func document(_ xml: String) throws -> XMLDocument {
        try lock.withLock { try XMLDocument(xmlString: xml, options: []) }
    }
}
