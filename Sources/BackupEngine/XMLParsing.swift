import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Every domain XML this process parses goes through here.
///
/// Foundation's `XMLDocument` on Linux does not throw for input libxml2 cannot make a document
/// of at all (an empty string): it dereferences the null document and the process dies. An
/// empty string is what a caller gets from `(try? domain.xml()) ?? ""` when the domain vanished
/// between listing and reading (the agent's inventory beside a drill tearing its sandbox down),
/// so blank input is refused here, as an error. Parses also take turns: Foundation sets
/// libxml2's process-wide parser defaults around each one, and they take well under a
/// millisecond.
public enum XMLParsing {
    private static let lock = NSLock()

    public static func document(_ xml: String) throws -> XMLDocument {
        guard xml.contains(where: { !$0.isWhitespace }) else {
            throw EngineError.invalidArgument("no XML to parse (an empty document)")
        }
        return try lock.withLock { try XMLDocument(xmlString: xml, options: []) }
    }
}
