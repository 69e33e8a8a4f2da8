import Foundation
@testable import VBackupStore
import XCTest

/// `vbackup gc` killed with SIGKILL at random moments never loses a point, and the next run
/// finishes what the killed one left.
final class GCCrashTests: XCTestCase {
    private let vm = SyntheticStore.VM(name: "gc-crash", uuid: "7a7a7a7a-0000-4000-8000-000000000001")

    private var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    func testGCKilledAtRandomMomentsNeverLosesAPointAndTheNextRunFinishes() throws {
        // Small packs, so GC has hundreds to delete and is interrupted in the middle.
        let fixture = try SyntheticStore(packSize: 32 << 10)
        addTeardownBlock { fixture.cleanup() }
        var kept: Set<String> = []
        var generator = SystemRandomNumberGenerator()
        var window = 0.6, killed = 0
        for round in 0..<10 {
            for point in 0..<6 {
                let chunks = (0..<48).map { SyntheticStore.bytes(seed: round * 1_000_000 + point * 1000 + $0) }
                let manifest = try fixture.addPoint(vm, at: utcDate(day: round, hour: point), chunks: chunks)
                if point % 3 == 0 {
                    kept.insert(manifest.id)
                } else {
                    try fixture.store.adapter.delete(StoreFormat.manifestKey(vmUUID: manifest.vmUUID, pointID: manifest.id))
                }
            }
            let delay = Double.random(in: 0...window, using: &generator)
            // A run that finished before its kill narrows the window, so the kills land mid-run.
            if try fixture.runAndKill(["gc"], after: delay) { killed += 1 } else { window = max(0.05, delay * 0.8) }

            let verify = try fixture.vbackup(["verify", "--json", "--no-repair"])
            XCTAssertEqual(verify.status, 0, "round \(round): \(verify.out) \(verify.err)")
            XCTAssertEqual(try fixture.verifyEveryPoint(), kept, "round \(round): every kept point reads back bit-exact")
        }
        XCTAssertGreaterThanOrEqual(killed, 5, "most kills landed while GC ran")
        let finish = try fixture.vbackup(["gc", "--json"])
        XCTAssertEqual(finish.status, 0, finish.err)
        let report = try decoder.decode(GCReport.self, from: Data(finish.out.utf8))
        XCTAssertEqual(report.packsPending, 0)
        let again = try decoder.decode(GCReport.self, from: Data(try fixture.vbackup(["gc", "--json"]).out.utf8))
        XCTAssertEqual(again.packsDeleted, 0, "everything forgotten is gone")
        XCTAssertEqual(try fixture.verifyEveryPoint(), kept)
    }
}
