import Foundation
import LocalStorage
import StorageAdapter
@testable import VBackupStore
import XCTest

/// The paper copy of a key: it restores a lost key file, and a typo is named by its line.
final class PaperKeyTests: XCTestCase {
    private func encryptedStoreWithPoint() throws -> (StoreFixture, BackupResult, [Data]) {
        let fixture = try StoreFixture(self)
        let chunks = diskChunks(count: 8, seed: 90)
        let result = try backUp(try makeEncryptedStore(self, fixture), chunks: chunks, pointID: "p1")
        return (fixture, result, chunks)
    }

    func testPaperCopyRestoresADeletedKeyFile() throws {
        let (fixture, result, chunks) = try encryptedStoreWithPoint()
        let config = try Store.readConfig(fixture.adapter)
        let keyName = try XCTUnwrap(try fixture.keys("keys/").first)
        let paper = try StoreKeys.paperCopy(adapter: fixture.adapter, keys: keys())
        XCTAssertTrue(paper.hasPrefix("vbackup paper key v1\nstore \(config.id)\nkey \(keyName.dropFirst(5).dropLast(5))\n"), paper)
        XCTAssertTrue(paper.split(separator: "\n").allSatisfy { $0.count <= 80 }, "fits a printed page")

        try fixture.adapter.delete(keyName)
        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c1"), keys: keys())) { error in
            XCTAssertEqual(error as? KeyError, .noKeyFile(store: fixture.adapter.location))
        }
        XCTAssertThrowsError(try StoreKeys.importPaper(paper, adapter: fixture.adapter, keyFile: nil, passphrase: { "wrong" })) { error in
            guard case KeyError.wrongPassphrase = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try fixture.keys("keys/"), [], "nothing written with a wrong passphrase")

        XCTAssertEqual(try StoreKeys.importPaper(paper, adapter: fixture.adapter, keyFile: nil, passphrase: { testPassphrase }), keyName)
        let store = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c2"), keys: keys())
        let index = try store.readDiskIndex(result.manifest.disks[0])
        for (position, id) in index.chunks.enumerated() {
            XCTAssertEqual(try store.readChunk(id), chunks[position])
        }
        XCTAssertThrowsError(try StoreKeys.importPaper(paper, adapter: fixture.adapter, keyFile: nil, passphrase: { testPassphrase })) { error in
            XCTAssertEqual(error as? KeyError, .keyFileExists(keyName))
        }
    }

    func testPaperCopyForgivesCaseSpacingAndLookAlikeDigits() throws {
        let (fixture, _, _) = try encryptedStoreWithPoint()
        let paper = try StoreKeys.paperCopy(adapter: fixture.adapter, keys: keys())
        let sloppy = paper.split(separator: "\n").map { line -> String in
            guard line.first?.isNumber == true else { return String(line) }
            return "  " + line.lowercased().replacingOccurrences(of: "o", with: "0")
                .replacingOccurrences(of: "i", with: "1").replacingOccurrences(of: "b", with: "8")
                .replacingOccurrences(of: " ", with: "   ")
        }.joined(separator: "\r\n\r\n").uppercased()
        XCTAssertEqual(try PaperKey.decode(sloppy), try PaperKey.decode(paper))
    }

    func testAMistypedLineIsNamed() throws {
        let (fixture, _, _) = try encryptedStoreWithPoint()
        let paper = try StoreKeys.paperCopy(adapter: fixture.adapter, keys: keys())
        var lines = paper.split(separator: "\n").map(String.init)
        let third = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("03 ") })

        var typo = lines
        let position = typo[third].index(typo[third].startIndex, offsetBy: 5)
        typo[third].replaceSubrange(position...position, with: typo[third][position] == "A" ? "C" : "A")
        assertPaperError(typo, "paper key: line 03 does not match its checksum: a letter on it is mistyped")

        var badLetter = lines
        badLetter[third].replaceSubrange(position...position, with: "9")
        assertPaperError(badLetter, "paper key: line 03: '9' is not a base32 letter (A-Z, 2-7)")

        var missing = lines
        missing.remove(at: third + 1)
        assertPaperError(missing, "paper key: line 04 is missing")

        var swapped = lines
        swapped.swapAt(third, third + 1)
        assertPaperError(swapped, "paper key: line 03 is missing")

        lines.removeLast(2)  // the last data line and the end line
        XCTAssertThrowsError(try PaperKey.decode(lines.joined(separator: "\n"))) { error in
            XCTAssertTrue("\(error)".contains("'end' line is missing"), "\(error)")
        }
    }

    private func assertPaperError(_ lines: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PaperKey.decode(lines.joined(separator: "\n")), file: file, line: line) { error in
            XCTAssertEqual("\(error)", message, file: file, line: line)
        }
    }

    func testBase32RoundTripsEveryLength() throws {
        for count in 0..<45 {
            let bytes = pseudoRandomBytes(count: count, seed: UInt64(count))
            XCTAssertEqual(try Base32.decode(Base32.encode(bytes)), bytes, "\(count) bytes")
        }
        XCTAssertEqual(Base32.encode(Data("foobar".utf8)), "MZXW6YTBOI")  // RFC 4648 test vector
    }
}
