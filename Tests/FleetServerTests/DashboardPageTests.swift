import FleetAPI
import Foundation
import Testing
@testable import VBackupServer

/// The dashboard pages as pure functions: what they show, and that nothing an agent or an
/// admin typed reaches the page as markup.
@Suite struct DashboardPageTests {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)  // 2025-06-15 15:06:40 UTC

    @Test func agentSuppliedTextIsEscapedEverywhere() {
        var snapshot = Self.sample()
        snapshot.signedInAs = "<i>root</i>"
        snapshot.hosts[0].name = "h&<b>1</b>"
        snapshot.hosts[0].groups = ["<em>g</em>"]
        snapshot.hosts[0].problems = ["vm <x> overdue"]
        snapshot.vms[0].name = "<script>alert(\"pwned\")</script>"
        snapshot.vms[0].tags = ["a'b"]
        snapshot.failedJobs[0].error = "<img src=x onerror=alert(1)>"
        snapshot.vms[1].lastDrill = VMDrillSummary(drillID: "d", at: Self.now, outcome: "failed", rtoSeconds: nil, failure: "<u>panic</u>")
        snapshot.storeUsage[0].store = "/srv/<store>"
        let page = DashboardPages.overview(snapshot)

        for markup in ["<script", "<img", "<b>1", "<em>", "<i>root", "<x>", "<store>", "<u>"] {
            #expect(!page.contains(markup), "\(markup) reached the page unescaped")
        }
        #expect(page.contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"))
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(page.contains("h&amp;&lt;b&gt;1&lt;/b&gt;"))
        #expect(page.contains("a&#39;b"))
        #expect(page.contains("Signed in as <strong>&lt;i&gt;root&lt;/i&gt;</strong>"))

        let login = DashboardPages.login(error: "<script>x</script>")
        #expect(!login.contains("<script"))
        #expect(login.contains("&lt;script&gt;x&lt;/script&gt;"))
    }

    @Test func overdueVMsHaveTheClassAndComeFirst() throws {
        let vms = try Self.section("vms", of: DashboardPages.overview(Self.sample()))
        let rows = Self.rows(of: vms)
        #expect(rows.count == 3)
        #expect(rows[0].contains("class=\"overdue\"") && rows[0].contains("web-2"))
        #expect(rows[0].contains(">overdue</td>"))
        #expect(rows[0].contains("never"))  // no point yet
        #expect(!rows[1].contains("overdue") && !rows[2].contains("overdue"))
        #expect(rows[1].contains("db-1") && rows[1].contains("2025-06-15 12:06 UTC") && rows[1].contains("3 h"))
        #expect(rows[1].contains("of 1 d 2 h"))
        #expect(vms.contains("1 overdue"))
    }

    @Test func drillCellShowsTheLastPassAndMarksAFailedLastDrill() throws {
        var snapshot = Self.sample()
        let day: TimeInterval = 86_400
        snapshot.vms[0].lastDrill = VMDrillSummary(drillID: "d1", at: Self.now - day, outcome: "passed", rtoSeconds: 14, failure: nil)
        snapshot.vms[0].lastPassedDrillAt = Self.now - day
        snapshot.vms[1].lastDrill = VMDrillSummary(drillID: "d2", at: Self.now - 600, outcome: "failed", rtoSeconds: nil,
                                                   failure: "no console line matched login:")
        snapshot.vms[1].lastPassedDrillAt = Self.now - 8 * day
        let vms = try Self.section("vms", of: DashboardPages.overview(snapshot))
        #expect(vms.contains("<th>Drill passed</th>"))
        let rows = Self.rows(of: vms)  // web-2 (overdue) first, then db-1, then scratch
        #expect(rows[1].contains("db-1") && rows[1].contains("<td class=\"drill\"><time datetime=\"2025-06-14T15:06:40.000Z\">2025-06-14 15:06 UTC</time>"))
        #expect(rows[1].contains("RTO 14 s") && !rows[1].contains("drill-failed"))
        #expect(rows[0].contains("web-2") && rows[0].contains("<td class=\"drill drill-failed\"><span class=\"badge\">last drill failed</span>"))
        #expect(rows[0].contains("no console line matched login:") && rows[0].contains("passed: <time datetime=\"2025-06-07T15:06:40.000Z\">"))
        #expect(rows[2].contains("scratch") && rows[2].contains("<td class=\"drill\"><span class=\"muted\">never</span></td>"))
        #expect(vms.contains("1 overdue, 1 failed drill"))
    }

    @Test func emptySnapshotShowsEmptyStates() throws {
        let page = DashboardPages.overview(DashboardSnapshot(
            now: Self.now, signedInAs: "admin", hosts: [], vms: [], failedJobs: [], runningJobs: [],
            storeUsage: [], nights: []
        ))
        #expect(try Self.section("hosts", of: page).contains("No hosts enrolled"))
        #expect(try Self.section("vms", of: page).contains("No VMs reported"))
        #expect(try Self.section("failed-jobs", of: page).contains("No failed jobs"))
        #expect(try Self.section("running-jobs", of: page).contains("No jobs running"))
        #expect(try Self.section("store-usage", of: page).contains("No store usage reported"))
        #expect(try Self.section("throughput", of: page).contains("No jobs in the last 30 nights"))
        #expect(!page.contains("<table"))
    }

    @Test func hostsShowHealthProblemsAgeAndCount() throws {
        let hosts = try Self.section("hosts", of: DashboardPages.overview(Self.sample()))
        let rows = Self.rows(of: hosts)
        #expect(rows.count == 2)
        #expect(rows[0].contains("kvm-a") && rows[0].contains("health-warning") && rows[0].contains("<li>web-2 is overdue</li>"))
        #expect(rows[0].contains("3 min ago") && rows[0].contains("1.4.0") && rows[0].contains("<td class=\"num\">2</td>"))
        #expect(rows[0].contains("<span class=\"tag\">prod</span>"))
        #expect(rows[1].contains("health-unreachable") && rows[1].contains("2 h 5 min ago"))
    }

    @Test func jobsShowErrorsBytesAndRates() throws {
        let page = DashboardPages.overview(Self.sample())
        let failed = try Self.section("failed-jobs", of: page)
        #expect(failed.contains("disk vda: NBD read failed at 1073741824"))
        #expect(failed.contains("1.5 GiB") && failed.contains("20 min ago"))
        let running = try Self.section("running-jobs", of: page)
        #expect(running.contains("600 MiB"))  // read so far
        #expect(running.contains("1 MiB/s"))  // 600 MiB in the 10 minutes since it started
    }

    @Test func humanUnits() {
        #expect(Format.bytes(0) == "0 B")
        #expect(Format.bytes(1023) == "1023 B")
        #expect(Format.bytes(1536) == "1.5 KiB")
        #expect(Format.bytes(5 * 1024 * 1024 * 1024) == "5 GiB")
        #expect(Format.bytes(150 * 1024 * 1024 + 300_000) == "150 MiB")
        #expect(Format.bytes(3 * 1024 * 1024 * 1024 * 1024 / 2) == "1.5 TiB")
        #expect(Format.rate(2.5 * 1024 * 1024) == "2.5 MiB/s")
        #expect(Format.duration(45) == "45 s")
        #expect(Format.duration(180) == "3 min")
        #expect(Format.duration(7500) == "2 h 5 min")
        #expect(Format.duration(7200) == "2 h")
        #expect(Format.duration(3 * 86400 + 4 * 3600 + 59) == "3 d 4 h")
        #expect(Format.age(of: Self.now.addingTimeInterval(-190), now: Self.now) == "3 min ago")
        #expect(Format.age(of: Self.now.addingTimeInterval(5), now: Self.now) == "just now")
        #expect(Format.time(Self.now) == "2025-06-15 15:06 UTC")
    }

    @Test func throughputHasOneBarPerNightProportionalToBytes() throws {
        let nights = (1...30).map { day -> NightlyThroughput in
            let mib = Int64(day) * 1024 * 1024
            return NightlyThroughput(night: String(format: "2025-05-%02d", day), bytesRead: 100 * mib,
                                     bytesStored: mib, jobs: 4, failedJobs: day % 7 == 4 ? 1 : 0)
        }
        var snapshot = Self.sample()
        snapshot.nights = nights
        let section = try Self.section("throughput", of: DashboardPages.overview(snapshot))
        let bars = Self.bars(in: section)
        #expect(bars.count == 30)
        #expect(bars.map(\.key) == nights.map(\.night))
        // Height per byte is the same for every bar.
        let perByte = bars[29].height / Double(nights[29].bytesRead)
        for (bar, night) in zip(bars, nights) {
            #expect(abs(bar.height - Double(night.bytesRead) * perByte) < 0.11, "\(night.night)")
        }
        #expect(bars.filter(\.failed).map(\.key) == ["2025-05-04", "2025-05-11", "2025-05-18", "2025-05-25"])
        #expect(section.components(separatedBy: "class=\"failed-mark\"").count - 1 == 4)
        // Axis: 0 to 3 GiB (the largest night is 2.93 GiB) in round binary units.
        for label in [">0 B<", ">1 GiB<", ">2 GiB<", ">3 GiB<"] { #expect(section.contains(label), "\(label)") }
        #expect(section.contains(">05-30<"))  // the latest night is labelled
    }

    @Test func axisTicksAreRoundNumbersOfOneUnit() {
        let mib = 1024.0 * 1024
        #expect(ByteAxis(maximum: 700 * mib).ticks == [0, 200, 400, 600, 800].map { $0 * mib })
        #expect(ByteAxis(maximum: 0).top == 1)
        #expect(ByteAxis(maximum: 3).ticks == [0, 1, 2, 3])
    }

    @Test func storeUsageShowsLatestSampleAndALine() throws {
        let section = try Self.section("store-usage", of: DashboardPages.overview(Self.sample()))
        #expect(section.contains("<dd class=\"stored\">40 GiB</dd>"))
        #expect(section.contains("<dd class=\"logical\">200 GiB</dd>"))
        #expect(section.contains("<dd class=\"points\">12</dd>"))
        let points = try #require(section.firstMatch(of: /<polyline class="line" points="([^"]+)"/)).1
        #expect(points.split(separator: " ").count == 3)
    }

    @Test func documentsNeedNothingTheContentSecurityPolicyForbids() {
        for page in [DashboardPages.overview(Self.sample()), DashboardPages.login(error: "no")] {
            #expect(page.hasPrefix("<!DOCTYPE html>"))
            #expect(page.hasSuffix("</html>\n"))
            #expect(!page.contains("<script"))
            #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("@import"))
            #expect(page.components(separatedBy: "<style>").count == 2)
        }
        let overview = DashboardPages.overview(Self.sample())
        for id in ["hosts", "vms", "failed-jobs", "running-jobs", "store-usage", "throughput"] {
            #expect(overview.contains("<section id=\"\(id)\">"))
        }
        #expect(overview.contains("<form method=\"post\" action=\"/logout\">"))
    }

    @Test func loginFormPostsTheTokenAndShowsTheError() {
        let plain = DashboardPages.login(error: nil)
        #expect(plain.contains("<form method=\"post\" action=\"/login\">"))
        #expect(plain.contains("<label for=\"token\">Admin token</label>"))
        #expect(plain.contains("<input type=\"password\" id=\"token\" name=\"token\""))
        #expect(!plain.contains("class=\"error\""))
        #expect(!plain.contains("/logout"))
        let failed = DashboardPages.login(error: "Unknown or revoked token")
        #expect(failed.contains("<p class=\"error\" role=\"alert\" id=\"login-error\">Unknown or revoked token</p>"))
    }
}
