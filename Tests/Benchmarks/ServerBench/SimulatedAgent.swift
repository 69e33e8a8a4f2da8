import AsyncHTTPClient
import FleetAPI
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One enrolled host as the server sees it: it polls for its policies with the etag it last
/// got (as the real agent does) and posts job reports and, now and then, its inventory.
struct SimulatedAgent: Sendable {
    let index: Int
    let credential: String
    let server: String
    let client: HTTPClient
    let log: LatencyLog
    let etags: EtagBoard

    /// Runs until `deadline`: a poll every `pollInterval`, a report batch every `reportInterval`.
    func run(until deadline: Date, pollInterval: Double, reportInterval: Double) async {
        var etag: String?
        var nextPoll = Date() + Double.random(in: 0..<pollInterval)
        var nextReport = Date() + Double.random(in: 0..<reportInterval)
        var batches = 0
        while true {
            let next = min(nextPoll, nextReport)
            if next >= deadline { return }
            let wait = next.timeIntervalSinceNow
            if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
            if nextPoll <= Date() {
                etag = await poll(etag: etag) ?? etag
                nextPoll += pollInterval
            }
            if nextReport <= Date() {
                await report(batch: batches)
                batches += 1
                nextReport += reportInterval
            }
        }
    }

    private func poll(etag: String?) async -> String? {
        var request = HTTPClientRequest(url: server + APIPath.agentPolicies)
        request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        // The HTTP validator as the response gave it (the server's is the quoted bundle etag).
        if let etag { request.headers.add(name: "If-None-Match", value: etag) }
        let started = Date()
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 16 << 20)
            let elapsed = Date().timeIntervalSince(started)
            switch response.status.code {
            case 304:
                log.record("poll (304 unchanged)", seconds: elapsed)
                return etag
            case 200:
                log.record("poll (200 new bundle)", seconds: elapsed)
                let bundle = try APIJSON.decoder().decode(PolicyBundle.self, from: Data(buffer: body))
                etags.saw(bundle.etag, agent: index)
                return response.headers.first(name: "ETag") ?? "\"\(bundle.etag)\""
            default:
                log.fail("poll", "HTTP \(response.status.code): \(String(buffer: body))")
                return nil
            }
        } catch {
            log.fail("poll", "\(error)")
            return nil
        }
    }

    private func report(batch: Int) async {
        let now = Date()
        var reports: [AgentReport] = []
        let vmUUID = String(format: "00000000-0000-4000-8000-%012x", index)
        let jobID = UUID().uuidString.lowercased()
        let point = PointReport(id: UUID().uuidString.lowercased(), store: "/var/lib/vbackup/store", createdAt: now,
                                kind: "incremental", logicalBytes: 20 << 30, storedBytes: 300 << 20)
        reports.append(AgentReport(createdAt: now, job: JobReport(
            jobID: jobID, vmUUID: vmUUID, vmName: "vm-\(index)", policy: "nightly", trigger: "schedule",
            state: "succeeded", fullBackup: false, queuedAt: now - 120, startedAt: now - 110, finishedAt: now,
            bytesRead: 2 << 30, bytesStored: 300 << 20, throttledSeconds: 4, overran: false, error: nil, point: point)))
        if batch % 5 == 0 {
            let vms = (0..<5).map { n in
                VMReport(uuid: String(format: "00000000-0000-4000-9%03x-%012x", n, index), name: "vm-\(index)-\(n)",
                         state: "running", tags: ["bench"], disks: [DiskReport(target: "vda", source: "/var/lib/libvirt/images/vm-\(index)-\(n).qcow2", capacityBytes: 20 << 30)],
                         policy: "nightly", maximumPointAgeSeconds: 100_800)
            }
            reports.append(AgentReport(createdAt: now, inventory: InventoryReport(
                agentVersion: "bench", libvirtVersion: "9.0.0", vms: vms, policyErrors: [], policyVersions: ["nightly": 1])))
        }
        do {
            var request = HTTPClientRequest(url: server + APIPath.agentReports)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(credential)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try APIJSON.encoder().encode(ReportBatch(reports: reports))))
            let started = Date()
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 200 else {
                log.fail("report", "HTTP \(response.status.code): \(String(buffer: body))")
                return
            }
            log.record(reports.count > 1 ? "report (job + inventory)" : "report (job)", seconds: Date().timeIntervalSince(started))
        } catch {
            log.fail("report", "\(error)")
        }
    }
}

/// When each agent first saw a bundle other than its first one: how long a policy change
/// takes to reach the fleet.
final class EtagBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var first: [Int: String] = [:]
    private var changed: [Int: Date] = [:]

    func saw(_ etag: String, agent: Int) {
        lock.withLock {
            guard let known = first[agent] else {
                first[agent] = etag
                return
            }
            if known != etag, changed[agent] == nil { changed[agent] = Date() }
        }
    }

    /// The times at which agents got the changed bundle.
    func changes() -> [Date] {
        lock.withLock { Array(changed.values) }
    }
}
