import Foundation
import LocalStorage
import StorageAdapter
import XCTest

final class LocalStorageAdapterTests: XCTestCase {
    func testPassesTheAdapterConformanceSuite() throws {
        try checkStorageAdapterConformance {
            try LocalStorageAdapter(root: try makeTemporaryDirectory(self), create: false)
        }
    }

    func testCreatesAMissingRootOnlyWhenAsked() throws {
        let missing = try makeTemporaryDirectory(self).appendingPathComponent("new/store")
        XCTAssertThrowsError(try LocalStorageAdapter(root: missing, create: false)) { error in
            guard case StorageError.unusableLocation(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("does not exist"), message)
        }
        _ = try LocalStorageAdapter(root: missing, create: true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: missing.path))
    }

    func testRefusesAFileAsRoot() throws {
        let file = try makeTemporaryDirectory(self).appendingPathComponent("plain")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try LocalStorageAdapter(root: file, create: true)) { error in
            XCTAssertEqual(error as? StorageError, .unusableLocation("storage location \(file.path) is a file, not a directory"))
        }
    }

    func testListingHidesInFlightTempFilesAndPutLeavesNone() throws {
        let root = try makeTemporaryDirectory(self)
        let adapter = try LocalStorageAdapter(root: root, create: false)
        try adapter.put("packs/ab/x.pack", data: Data(repeating: 1, count: 10))
        // A crash mid-put leaves a temp file like this one next to the target.
        try Data([9]).write(to: root.appendingPathComponent("packs/ab/.tmp-crashed"))
        XCTAssertEqual(try adapter.list(prefix: "packs/").map(\.key), ["packs/ab/x.pack"])
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("packs/ab").path)
        XCTAssertEqual(Set(names), ["x.pack", ".tmp-crashed"], "put itself leaves no temp file")
    }

    func testGetRangePastTheEndIsAnError() throws {
        let adapter = try LocalStorageAdapter(root: try makeTemporaryDirectory(self), create: false)
        try adapter.put("k", data: Data(repeating: 1, count: 10))
        XCTAssertThrowsError(try adapter.getRange("k", offset: 8, length: 4))
    }
}
