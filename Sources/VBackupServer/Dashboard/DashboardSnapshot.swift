import FleetAPI
import Foundation

/// Everything one dashboard page shows, read from the repository in one go; the pages are
/// pure functions of it, so they are rendered the same way in tests and in the server.
public struct DashboardSnapshot: Sendable {
    public var now: Date
    /// The signed-in admin credential's name.
    public var signedInAs: String
    public var hosts: [HostInfo]
    public var vms: [VMInfo]
    /// Most recent first, at most 50.
    public var failedJobs: [JobInfo]
    public var runningJobs: [JobInfo]
    public var storeUsage: [StoreUsageInfo]
    /// Oldest night first, the last 30 nights.
    public var nights: [NightlyThroughput]

    public init(now: Date, signedInAs: String, hosts: [HostInfo], vms: [VMInfo], failedJobs: [JobInfo],
                runningJobs: [JobInfo], storeUsage: [StoreUsageInfo], nights: [NightlyThroughput]) {
        self.now = now
        self.signedInAs = signedInAs
        self.hosts = hosts
        self.vms = vms
        self.failedJobs = failedJobs
        self.runningJobs = runningJobs
        self.storeUsage = storeUsage
        self.nights = nights
    }
}
