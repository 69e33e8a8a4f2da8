import Foundation
import StorageAdapter
import XCTest

/// The contract of `StorageAdapter`, checked against any implementation. Each adapter's test
/// calls this with a factory for an empty location (the S3 adapter will run it too).
func checkStorageAdapterConformance(
    _ makeAdapter: () throws -> any StorageAdapter, file: StaticString = #filePath, line: UInt = #line
) throws {
    let adapter = try makeAdapter()
    try checkReadWrite(adapter, file: file, line: line)
    try checkListAndDelete(adapter, file: file, line: line)
    try checkKeysAndConcurrency(adapter, file: file, line: line)
}

private func checkReadWrite(_ adapter: any StorageAdapter, file: StaticString, line: UInt) throws {
    let payload = Data("hello, packs".utf8)

    // put then get returns the same bytes; stat reports the size.
    try adapter.put("a/b/c.bin", data: payload)
    XCTAssertEqual(try adapter.get("a/b/c.bin"), payload, file: file, line: line)
    XCTAssertEqual(try adapter.stat("a/b/c.bin")?.size, payload.count, file: file, line: line)
    XCTAssertNil(try adapter.stat("a/b/missing"), file: file, line: line)

    // getRange reads exactly the asked bytes.
    XCTAssertEqual(try adapter.getRange("a/b/c.bin", offset: 7, length: 5), Data("packs".utf8), file: file, line: line)
    XCTAssertEqual(try adapter.getRange("a/b/c.bin", offset: 0, length: 0), Data(), file: file, line: line)

    // Missing objects are notFound for get and getRange.
    assertThrows(StorageError.notFound(key: "nope"), file: file, line: line) { _ = try adapter.get("nope") }
    assertThrows(StorageError.notFound(key: "x/nope"), file: file, line: line) {
        _ = try adapter.getRange("x/nope", offset: 0, length: 1)
    }

    // put over an existing key replaces it whole.
    let replacement = Data(repeating: 7, count: 100_000)
    try adapter.put("a/b/c.bin", data: replacement)
    XCTAssertEqual(try adapter.get("a/b/c.bin"), replacement, file: file, line: line)
}

private func checkListAndDelete(_ adapter: any StorageAdapter, file: StaticString, line: UInt) throws {

    // list returns every object under a prefix, including a prefix ending mid-segment.
    try adapter.put("a/d.bin", data: Data([1]))
    try adapter.put("ab/e.bin", data: Data([2, 3]))
    XCTAssertEqual(Set(try adapter.list(prefix: "a/").map(\.key)), ["a/b/c.bin", "a/d.bin"], file: file, line: line)
    XCTAssertEqual(Set(try adapter.list(prefix: "a").map(\.key)), ["a/b/c.bin", "a/d.bin", "ab/e.bin"], file: file, line: line)
    XCTAssertEqual(try adapter.list(prefix: "ab/").map(\.size), [2], file: file, line: line)
    XCTAssertEqual(try adapter.list(prefix: "zzz/"), [], file: file, line: line)

    // delete removes; deleting again (or anything missing) succeeds.
    try adapter.delete("a/d.bin")
    try adapter.delete("a/d.bin")
    XCTAssertNil(try adapter.stat("a/d.bin"), file: file, line: line)
    XCTAssertEqual(Set(try adapter.list(prefix: "").map(\.key)), ["a/b/c.bin", "ab/e.bin"], file: file, line: line)
}

private func checkKeysAndConcurrency(_ adapter: any StorageAdapter, file: StaticString, line: UInt) throws {
    let payload = Data("x".utf8)

    // Keys that could escape the location or are malformed are refused.
    for bad in ["", "/abs", "a/../b", "..", "a//b", "a/", "a/./b", "sp ace"] {
        XCTAssertThrowsError(try adapter.put(bad, data: payload), "key '\(bad)'", file: file, line: line)
    }

    // createExclusive: of many racing creators of one key exactly one wins, and its bytes stay.
    let winners = Atomicish()
    DispatchQueue.concurrentPerform(iterations: 8) { index in
        if (try? adapter.createExclusive("locks/one", data: Data([UInt8(index)]))) == true { winners.record(index) }
    }
    XCTAssertEqual(winners.all.count, 1, file: file, line: line)
    XCTAssertEqual(try adapter.get("locks/one"), Data([UInt8(winners.all.first ?? 99)]), file: file, line: line)
    XCTAssertFalse(try adapter.createExclusive("locks/one", data: payload), file: file, line: line)
    try adapter.delete("locks/one")
    XCTAssertTrue(try adapter.createExclusive("locks/one", data: payload), file: file, line: line)

    // Concurrent puts of distinct keys all land.
    DispatchQueue.concurrentPerform(iterations: 16) { index in
        try? adapter.put("concurrent/\(index)", data: Data(repeating: UInt8(index), count: 1000 + index))
    }
    XCTAssertEqual(try adapter.list(prefix: "concurrent/").count, 16, file: file, line: line)
}

func assertThrows<E: Error & Equatable>(
    _ expected: E, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? E, expected, file: file, line: line)
    }
}

/// Indexes recorded from many threads.
private final class Atomicish: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func record(_ value: Int) { lock.withLock { values.append(value) } }
    var all: [Int] { lock.withLock { values } }
}
