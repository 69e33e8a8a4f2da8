@testable import ResourceControl
import Testing

/// Water-filling: each job gets min(its own limit, an equal share of what the smaller ones left).
@Suite("Fair share of a host limit")
struct FairShareTests {
    let mib = 1_048_576.0

    @Test("uncapped jobs split the host limit equally")
    func equalSplit() {
        let rates = FairShare.split(capacity: 20 * mib, limits: [nil, nil])
        #expect(rates == [10 * mib, 10 * mib])
    }

    @Test("a job capped below its equal share gives the rest to the others")
    func cappedJobGivesTheRest() {
        #expect(FairShare.split(capacity: 20 * mib, limits: [4 * mib, nil]) == [4 * mib, 16 * mib])
        #expect(FairShare.split(capacity: 30 * mib, limits: [nil, 2 * mib, nil]) == [14 * mib, 2 * mib, 14 * mib])
    }

    @Test("a job capped above its equal share gets only the equal share")
    func capAboveShare() {
        #expect(FairShare.split(capacity: 20 * mib, limits: [15 * mib, 30 * mib]) == [10 * mib, 10 * mib])
        #expect(FairShare.split(capacity: 20 * mib, limits: [4 * mib, 12 * mib, nil]) == [4 * mib, 8 * mib, 8 * mib])
    }

    @Test("jobs whose limits add up to less than the host limit each get their own limit")
    func allCappedUnderHost() {
        #expect(FairShare.split(capacity: 20 * mib, limits: [3 * mib, 5 * mib]) == [3 * mib, 5 * mib])
    }

    @Test("without a host limit every job gets its own limit, unlimited ones stay unlimited")
    func noHostLimit() {
        #expect(FairShare.split(capacity: nil, limits: [3 * mib, nil]) == [3 * mib, nil])
    }
}
