import FleetAPI
import Foundation
import Testing
@testable import VBackupServer

/// The browser test's reports (`DashboardBrowserTests.reports(now:)`) make the overview it
/// expects at whatever time of day and on whatever date CI runs it: three nightly bars, the
/// last one failed, and one overdue VM. A fixture whose two last jobs straddled a night's
/// boundary (noon UTC) once gave a fourth bar between 09:30 and 10:00 UTC, which only a run at
/// that hour showed; here every quarter hour of a day and the ends of months and years are
/// checked on every run, through the real repository and page, without a browser.
@Suite struct DashboardBrowserFixtureTests {
    /// Every quarter hour of 2025-11-22 (UTC), then month, leap-day and year ends.
    static let instants: [Date] = (0..<96).map { Date(timeIntervalSince1970: 1_763_769_600 + Double($0) * 900) }
        + ["2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-03-01T11:59:59Z", "2028-02-29T12:00:00Z",
           "2028-03-01T09:45:00Z", "2026-04-30T23:59:59Z"].map { ISO8601DateFormatter().date(from: $0)! }

    /// The browser reads the page some time after the reports went in: as late as this.
    static let browserLag: TimeInterval = 600

    @Test func theReportsMakeThreeNightsTheLastFailedAndOneOverdueVMAtAnyTime() async throws {
        for now in Self.instants {
            try await withRepository(.sqlite) { repository in
                let host = try await repository.enrollTestHost(DashboardBrowserTests.hostName, now: now)
                _ = try await repository.record(DashboardBrowserTests.reports(now: now), hostID: host.hostID, now: now)
                for readAt in [now, now + Self.browserLag] {
                    let snapshot = try await DashboardSnapshot.read(repository, now: readAt, signedInAs: "tester")
                    let page = DashboardPages.overview(snapshot)
                    let bars = DashboardPageTests.bars(in: try DashboardPageTests.section("throughput", of: page))
                    #expect(bars.map(\.failed) == [false, false, true], "reports at \(now), read at \(readAt): \(bars.map(\.key))")
                    #expect(snapshot.vms.filter(\.overdue).map(\.name) == [DashboardBrowserTests.overdueVM.name],
                            "reports at \(now), read at \(readAt)")
                }
            }
        }
    }
}
