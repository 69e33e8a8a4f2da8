import FleetAPI
import Foundation

/// One value of every wire type, each optional field set (so the schema test sees every
/// field), encoded as the server encodes.
enum WireSamples {
    static func all() throws -> [(name: String, data: Data)] {
        let encoder = APIJSON.encoder()
        let now = Date(timeIntervalSince1970: 1_767_225_600.25)
        let disk = DiskReport(target: "vda", source: "/images/web1.qcow2", capacityBytes: 1 << 34)
        let assignment = PolicyAssignment(hosts: ["hv-*"], groups: ["prod"])
        let point = PointReport(id: "p1", store: "/srv/store", createdAt: now, kind: "full", logicalBytes: 10, storedBytes: 5)
        let job = JobReport(jobID: "j1", vmUUID: "u1", vmName: "web1", policy: "nightly", trigger: "schedule", state: "succeeded",
                            fullBackup: true, queuedAt: now, startedAt: now, finishedAt: now, bytesRead: 10, bytesStored: 5,
                            throttledSeconds: 1.5, overran: false, error: "none", point: point, kind: "backup")
        let vmReport = VMReport(uuid: "u1", name: "web1", state: "running", tags: ["web"], disks: [disk], policy: "nightly",
                                maximumPointAgeSeconds: 90_000)
        let inventory = InventoryReport(agentVersion: "1.0", libvirtVersion: "10.0", vms: [vmReport], policyErrors: ["x: why"],
                                        policyVersions: ["nightly": 2])
        let usage = StoreUsageReport(store: "/srv/store", storedBytes: 5, logicalBytes: 10, points: 1)
        let host = HostInfo(id: "h1", name: "hv1", groups: ["prod"], agentVersion: "1.0", libvirtVersion: "10.0", enrolledAt: now,
                            lastContact: now, revoked: false, health: .warning, problems: ["web1 overdue"], vmCount: 1, policyErrors: [])
        let summary = VMDrillSummary(drillID: "drill-1", at: now, outcome: "failed", rtoSeconds: 12.5, failure: "no login")
        let vm = VMInfo(hostID: "h1", hostName: "hv1", uuid: "u1", name: "web1", state: "running", tags: ["web"], disks: [disk],
                        policy: "nightly", lastPointID: "p1", lastPointAt: now, lastPointAgeSeconds: 60, maximumPointAgeSeconds: 90_000,
                        overdue: false, lastJobState: "succeeded",
                        lastDrill: summary, lastPassedDrillAt: now)
        let check = DrillCheckReport(kind: "console", status: "failed", detail: "no line matched")
        let drill = DrillResultReport(drillID: "drill-1", jobID: "j2", vmUUID: "u1", vmName: "web1", pointID: "p1", pointCreatedAt: now,
                                      startedAt: now, finishedAt: now, outcome: "failed", failure: "no login", failedStep: "checks",
                                      diskMode: "overlay", runningSeconds: 1.5, rtoSeconds: 12.5, checks: [check])
        let sample = StoreUsageInfo.Sample(at: now, storedBytes: 5, logicalBytes: 10, points: 1)
        let values: [(String, any Encodable)] = [
            ("APIError", APIError("why")),
            ("HealthStatus", HealthStatus(status: "ok", version: "0.1.0", database: "sqlite")),
            ("EnrollmentTokenRequest", EnrollmentTokenRequest(hostName: "hv1", groups: ["prod"], expiresInSeconds: 3600)),
            ("EnrollmentTokenCreated", EnrollmentTokenCreated(id: "t1", token: "vbe_x", hostName: "hv1", groups: ["prod"], expiresAt: now)),
            ("EnrollRequest", EnrollRequest(token: "vbe_x", hostName: "hv1", agentVersion: "1.0")),
            ("EnrollResponse", EnrollResponse(hostID: "h1", hostName: "hv1", credential: "vbh_x")),
            ("HostInfo", host),
            ("HostDetail", HostDetail(host: host, vms: [vm])),
            ("VMInfo", vm),
            ("JobInfo", JobInfo(id: "j1", hostID: "h1", hostName: "hv1", vmUUID: "u1", vmName: "web1", policy: "nightly",
                                trigger: "schedule", state: "failed", fullBackup: false, queuedAt: now, startedAt: now, finishedAt: now,
                                bytesRead: 10, bytesStored: 5, bytesPerSecond: 1.5, throttledSeconds: 0, overran: true,
                                error: "disk vanished", pointID: "p1", kind: "drill")),
            ("DrillInfo", DrillInfo(hostID: "h1", hostName: "hv1", drill)),
            ("DrillResultReport", drill),
            ("DrillCheckReport", check),
            ("VMDrillSummary", summary),
            ("PointInfo", PointInfo(id: "p1", hostID: "h1", hostName: "hv1", vmUUID: "u1", vmName: "web1", store: "/srv/store",
                                    createdAt: now, kind: "full", logicalBytes: 10, storedBytes: 5, jobID: "j1")),
            ("StoreUsageInfo", StoreUsageInfo(hostID: "h1", hostName: "hv1", store: "/srv/store", samples: [sample])),
            ("StoreUsageSample", sample),
            ("NightlyThroughput", NightlyThroughput(night: "2026-01-01", bytesRead: 10, bytesStored: 5, jobs: 2, failedJobs: 1)),
            ("PolicyAssignment", assignment),
            ("PolicyApplyRequest", PolicyApplyRequest(yaml: "version: 1", assignment: assignment)),
            ("PolicyDocument", PolicyDocument(name: "nightly", version: 2, yaml: "version: 1", sha256: "ab", assignment: assignment,
                                              createdAt: now, author: "admin")),
            ("PolicySummary", PolicySummary(name: "nightly", version: 2, sha256: "ab", assignment: assignment, updatedAt: now, hostCount: 3)),
            ("PolicyVersionInfo", PolicyVersionInfo(version: 2, sha256: "ab", createdAt: now, author: "admin")),
            ("PolicyBundle", PolicyBundle(etag: "e1", policies: [.init(name: "nightly", version: 2, yaml: "version: 1", sha256: "ab")])),
            ("PolicyBundleEntry", PolicyBundle.Entry(name: "nightly", version: 2, yaml: "version: 1", sha256: "ab")),
            ("AgentReport", AgentReport(id: "6f1c2d3e-0000-4000-8000-000000000001", createdAt: now, job: job)),
            ("JobReport", job),
            ("PointReport", point),
            ("InventoryReport", inventory),
            ("VMReport", vmReport),
            ("DiskReport", disk),
            ("StoreUsageReport", usage),
            ("ReportBatch", ReportBatch(reports: [AgentReport(createdAt: now, inventory: inventory), AgentReport(createdAt: now, storeUsage: usage)])),
            ("ReportReceipt", ReportReceipt(accepted: ["a"], duplicates: ["b"])),
        ]
        var encoded: [(name: String, data: Data)] = []
        for (name, value) in values { encoded.append((name, try encoder.encode(value))) }
        return encoded
    }
}
