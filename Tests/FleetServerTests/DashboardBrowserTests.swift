import FleetAPI
import Foundation
import Testing

/// The dashboard as an admin uses it: the real server on a free port over each database
/// engine, a host enrolled and reporting through the agent API as an agent would, and
/// Chromium (through chromedriver) signing in, reading the overview and signing out.
/// Serialized: two browsers at once on a two-core machine only make both slow.
@Suite(.serialized) struct DashboardBrowserTests {
    static let hostName = "kvm-dash-01"
    static let storeName = "/srv/dash-store"
    static let healthyVM = (name: "dash-db-1", uuid: "0d1a5b7e-0000-4000-8000-00000000da01")
    static let overdueVM = (name: "dash-web-2", uuid: "0d1a5b7e-0000-4000-8000-00000000da02")
    static let failure = "NBD export of vdb vanished mid-read (dash-e2e-7f3a)"

    @Test(arguments: TestDatabase.allCases)
    func adminSignsInSeesTheFleetAndSignsOut(_ database: TestDatabase) async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("vbackup-dashboard-\(database.rawValue)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try await TestServer.run(database) { server in
            let host = try await server.enroll(Self.hostName, groups: ["prod"])
            let receipt = try server.expect(.ok, ReportReceipt.self, try await server.send(
                .post, APIPath.agentReports, token: host.credential, json: Self.reports(now: Date())))
            #expect(receipt.duplicates.isEmpty)
            let base = "http://127.0.0.1:\(try #require(server.client.port))"
            try await withChromium(folder: folder) { browser in
                try await Self.signIn(browser, base: base, admin: server.admin, folder: folder)
                try await Self.checkOverview(browser, folder: folder)
                try await Self.signOut(browser, base: base)
            }
        }
        print("dashboard screenshots (\(database.rawValue)): \(folder.path)")
    }

    /// `/` without a session lands on the sign-in form; a wrong admin token is refused there
    /// with the server's reason, the right one leads to the overview.
    static func signIn(_ browser: WebDriverSession, base: String, admin: String, folder: URL) async throws {
        try await browser.navigate(to: base + "/")
        #expect(try await browser.waitUntil { try await browser.currentURL() == base + "/login" })
        #expect(try await browser.element("label[for=token]").text() == "Admin token")

        try await browser.element("#token").sendKeys("vba_" + String(repeating: "0", count: 40))
        try await browser.element("form button[type=submit]").click()
        #expect(try await browser.waitUntil { !(try await browser.element("#login-error").text().isEmpty) })
        #expect(try await browser.currentURL() == base + "/login")
        #expect(try await browser.elements("#hosts").isEmpty)
        try await browser.screenshot(to: folder.appendingPathComponent("login-refused.png"))

        try await browser.element("#token").sendKeys(admin)
        try await browser.element("form button[type=submit]").click()
        #expect(try await browser.waitUntil { try await browser.currentURL() == base + "/" })
        #expect(try await browser.waitUntil { !(try await browser.elements("#hosts").isEmpty) })
    }

    /// What the agent reported is on the page: the host, both VMs with only the one without a
    /// point marked overdue, the failed job's error; and the browser reported no Content
    /// Security Policy violation (the page needs no script, style or image from elsewhere).
    static func checkOverview(_ browser: WebDriverSession, folder: URL) async throws {
        #expect(try await browser.element("header .account").text().contains("tester"))
        let hostRow = try await browser.element("#hosts tr[data-host='\(hostName)']")
        #expect(try await hostRow.text().contains(hostName))

        let vms = try await browser.element("#vms").text()
        #expect(vms.contains(healthyVM.name) && vms.contains(overdueVM.name))
        let overdue = try await browser.elements("#vms tr.overdue")
        #expect(overdue.count == 1)
        #expect(try await overdue.first?.attribute("data-vm") == overdueVM.name)
        #expect(try await browser.element("#vms tr[data-vm='\(healthyVM.name)']").attribute("class") == nil)

        #expect(try await browser.element("#failed-jobs").text().contains(failure))
        #expect(try await browser.element("#store-usage").text().contains(storeName))
        #expect(try await browser.elements("#throughput rect.bar").count == 3)
        #expect(try await browser.elements("#throughput rect.bar.failed").count == 1)

        let violations = try await browser.browserLog().filter { $0.message.contains("Content Security Policy") }
        #expect(violations.isEmpty, "\(violations)")
        try await browser.setWindow(width: 1280, height: 2000)
        try await browser.screenshot(to: folder.appendingPathComponent("overview.png"))
    }

    /// The header's button ends the session: back on the sign-in form, and `/` stays there.
    static func signOut(_ browser: WebDriverSession, base: String) async throws {
        try await browser.element("header form button").click()
        #expect(try await browser.waitUntil { try await browser.currentURL() == base + "/login" })
        try await browser.navigate(to: base + "/")
        #expect(try await browser.waitUntil { try await browser.currentURL() == base + "/login" })
    }

    /// What an agent sends after a few nights: its inventory (two VMs of policy nightly, first
    /// reported four days ago and again an hour ago), a
    /// success for one VM on each of the last three nights (24 h apart, so three nights
    /// whatever the time of day), a failure for the other last night, and the store's usage
    /// after each night.
    static func reports(now: Date) -> ReportBatch {
        let hour = 3600.0
        let vms = [healthyVM, overdueVM].map {
            VMReport(uuid: $0.uuid, name: $0.name, state: "running", tags: ["dash"],
                     disks: [DiskReport(target: "vda", source: "/var/lib/libvirt/images/\($0.name).qcow2", capacityBytes: 20 << 30)],
                     policy: "nightly", maximumPointAgeSeconds: 26 * hour)
        }
        // The VMs were first seen four days ago: a VM without a point is overdue only once the
        // policy's maximum age has passed since then.
        var reports = [4 * 24 * hour, hour].map { ago in
            AgentReport(createdAt: now.addingTimeInterval(-ago).rounded(), inventory: InventoryReport(
                agentVersion: "1.4.2", libvirtVersion: "9.0.0", vms: vms, policyErrors: [], policyVersions: [:]))
        }
        for (night, gib) in [(3, 18), (2, 6), (1, 9)] {
            let start = (now.addingTimeInterval(-Double(night) * 24 * hour + 2 * hour)).rounded()
            reports.append(job(healthyVM, start: start, bytesRead: Int64(gib) << 30, failure: nil))
            reports.append(AgentReport(createdAt: start.addingTimeInterval(hour), storeUsage: StoreUsageReport(
                store: storeName, storedBytes: Int64(30 + 4 * (3 - night)) << 30, logicalBytes: 40 << 30, points: 4 - night)))
        }
        // Last night, at the same second as the other VM's job: three nights, the last one
        // failed. Any later start could fall on the other side of a night's boundary (noon UTC)
        // when the test runs between 09:30 and 10:00 UTC, and make a fourth night.
        reports.append(job(overdueVM, start: (now.addingTimeInterval(-24 * hour + 2 * hour)).rounded(), bytesRead: 3 << 29, failure: failure))
        return ReportBatch(reports: reports)
    }

    static func job(_ vm: (name: String, uuid: String), start: Date, bytesRead: Int64, failure: String?) -> AgentReport {
        let finished = start.addingTimeInterval(1200)
        let id = UUID().uuidString.lowercased()
        let point = failure == nil
            ? PointReport(id: "p-\(id.prefix(8))", store: storeName, createdAt: finished, kind: "incremental",
                          logicalBytes: 20 << 30, storedBytes: bytesRead / 8)
            : nil
        return AgentReport(createdAt: finished, job: JobReport(
            jobID: id, vmUUID: vm.uuid, vmName: vm.name, policy: "nightly", trigger: "schedule",
            state: failure == nil ? "succeeded" : "failed", fullBackup: false, queuedAt: start, startedAt: start,
            finishedAt: finished, bytesRead: bytesRead, bytesStored: bytesRead / 8, throttledSeconds: 0, overran: false,
            error: failure, point: point))
    }
}

private extension Date {
    /// Whole seconds: dates travel with milliseconds, and equal times then compare equal.
    func rounded() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
