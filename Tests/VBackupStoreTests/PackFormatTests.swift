import Foundation
@testable import VBackupStore
import XCTest

/// The pack trailer alone describes a pack, so an index can be rebuilt from packs.
final class PackFormatTests: XCTestCase {
    func testTrailersListEveryStoredChunkAtItsLocation() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = (0..<10).map { compressibleBytes(count: 64 << 10, seed: 50 + $0) }
            + (0..<6).map { pseudoRandomBytes(count: 64 << 10, seed: 60 + UInt64($0)) }
        let result = try backUp(store, chunks: chunks, pointID: "p1")

        var fromTrailers: [ChunkLocation] = []
        for key in try fixture.keys("packs/") {
            let packID = String(key.split(separator: "/").last!.dropLast(".pack".count))
            let whole = try fixture.adapter.get(key)
            XCTAssertEqual(Digests.hex(of: whole), packID, "a pack is named by its SHA-256")
            let ranged = try Pack.entries(adapter: fixture.adapter, packID: packID, cipher: .none)
            XCTAssertEqual(try Pack.entries(inPack: whole, packID: packID, cipher: .none), ranged)
            fromTrailers += ranged
        }
        XCTAssertEqual(Set(fromTrailers.map(\.id)), Set(result.index.chunks))
        for location in fromTrailers {
            XCTAssertEqual(try store.catalog.locations(of: location.id), [location])
        }
    }

    func testIndexFragmentRoundTrips() throws {
        let locations = (0..<5).map { index in
            ChunkLocation(
                id: encode(Data("c\(index)".utf8)).id, pack: encode(Data("pack".utf8)).id.hex,
                offset: UInt64(index) * 1000, length: 999, rawLength: 4096)
        }
        let fragment = IndexFragment(locations: locations)
        XCTAssertEqual(try IndexFragment(serialized: fragment.serialized()), fragment)
        var damaged = fragment.serialized()
        damaged[damaged.count - 2] ^= 1
        XCTAssertThrowsError(try IndexFragment(serialized: damaged))
    }
}
