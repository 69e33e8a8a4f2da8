import Foundation
import Logging
import VBackupPolicy

/// Everything an agent is started with. The command line fills it from flags; tests build
/// one with a `ManualClock` and their own folders.
public struct AgentConfiguration: Sendable {
    public var stateDirectory: URL
    public var policiesDirectory: URL
    public var connectURI = "qemu:///system"
    public var openStore: StoreOpener
    public var clock: any AgentClock = SystemClock()
    /// `host:port` for `/metrics` and `/status`; nil serves nothing.
    public var metricsAddress: (host: String, port: Int)?
    /// Hashing and compressing threads per job.
    public var workersPerJob = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// The name of the agent's own CPU group.
    public var cgroupName = "vbackup-agent"
    /// Whether the agent moves its process into its own CPU group. Tests that run an agent
    /// inside the test process turn it off (the group would hold the test runner too).
    public var controlsCPU = true
    public var tick: TimeInterval = 1
    /// An enrolled agent: how often it asks the policy server for its policies (± 10 %), how
    /// often it sends its inventory unchanged, and how long one request to the server may take.
    public var policyPollInterval: TimeInterval = 30
    /// Only VMs whose names match one of these are this agent's (empty: every VM of the
    /// libvirt connection), for a host whose VMs are split between agents or stores.
    public var vmNames: [Glob] = []
    public var inventoryInterval: TimeInterval = 3_600
    public var serverTimeout: TimeInterval = 20
    public var logger = Logger(label: "vbackup.agent")
    /// How a policy's drill runs (VBackupDrill's `DrillRunner`); tests may stand in for it.
    public var runDrill: DrillRun = AgentConfiguration.drillRunner
    /// How a policy's copy target is opened; nil: with `openStore` (the agent's own keys).
    public var openCopyTarget: CopyTargetOpener?

    public static let defaultStateDirectory = "/var/lib/vbackup/agent"
    public static let defaultPoliciesDirectory = "/etc/vbackup/policies"

    public init(stateDirectory: URL, policiesDirectory: URL, openStore: @escaping StoreOpener) {
        self.stateDirectory = stateDirectory
        self.policiesDirectory = policiesDirectory
        self.openStore = openStore
    }
}
