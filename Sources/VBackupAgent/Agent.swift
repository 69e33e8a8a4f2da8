import BackupEngine
import Foundation
import LibvirtClient
import Logging
import ResourceControl
import VBackupPolicy

/// The host agent: a per-host job manager that discovers the VMs, runs the backups the
/// policies schedule, and throttles itself so that the VMs' own work is never starved.
///
/// One thread ticks once a second (sooner when an event or a signal pokes it): reload the
/// policies if they changed, refresh the VM list if libvirt said something changed, update the
/// throttle, queue what is due, start what may start, write the status. Jobs run on their own
/// threads. The journal (SQLite) holds every job, so a restart resumes the queue, settles the
/// jobs a crash left running, and loses no result.
public final class Agent: @unchecked Sendable {
    let config: AgentConfiguration
    let journal: JobJournal
    let logger: Logger
    let metrics = AgentMetrics()
    let keeper: PolicyKeeper
    let inventory: VMInventory
    let throttle: HostThrottle
    let jobs: JobManager
    let startedAt: Date
    let stores: StoreCache
    /// Present while the host is enrolled with a policy server (`server.json`).
    let link: ServerLink?
    private let lock: StateDirectoryLock
    private let wake = DispatchSemaphore(value: 0)
    private let state = NSLock()
    private var stopRequested = false
    private var reloadRequested = false
    private var policiesInForce = PolicySet(policies: [])
    private var connectionInUse: LibvirtConnection?
    private var lastStatus: AgentStatus?
    var libvirt = LibvirtLink()

    public init(_ config: AgentConfiguration) throws {
        self.config = config
        logger = config.logger
        lock = try StateDirectoryLock(directory: config.stateDirectory)
        let enrollment = try ServerEnrollment.read(from: config.stateDirectory)
        let reportQueued = Doorbell()
        let journal = try JobJournal(directory: config.stateDirectory, reportQueued: enrollment == nil ? nil : reportQueued)
        self.journal = journal
        link = try enrollment.map { try ServerLink(enrollment: $0, config: config, journal: journal, reportQueued: reportQueued) }
        keeper = PolicyKeeper(directory: link?.cacheDirectory ?? config.policiesDirectory)
        inventory = VMInventory(readsDetails: link != nil, only: config.vmNames)
        let cpu = config.controlsCPU ? CPUControl.attach(name: config.cgroupName) : nil
        throttle = HostThrottle(cpu: cpu, logger: config.logger)
        jobs = JobManager(journal: journal, governor: throttle.governor, metrics: metrics, logger: config.logger)
        startedAt = config.clock.now
        stores = StoreCache(open: config.openStore)
        jobs.execute = { [unowned self] in execute($0) }
    }

    /// Runs until `stop()`; returns once every job has recorded its end.
    public func run() throws {
        logger.info("agent starting", metadata: ["pid": "\(getpid())", "state": "\(config.stateDirectory.path)",
                                                 "policies": "\(keeper.directory.path)", "cpu": "\(throttle.cpuDescription)"])
        if let link {
            logger.notice("policies come from the policy server; the policy folder is not used",
                          metadata: ["server": "\(link.enrollment.server)", "host": "\(link.enrollment.hostName)",
                                     "cache": "\(link.cacheDirectory.path)", "unused": "\(config.policiesDirectory.path)"])
        }
        keeper.reloadIfChanged(force: true)
        policiesReloaded()
        connectLibvirt()
        do { _ = try stores.store(nil) } catch { logger.error("cannot open the default store", metadata: ["error": "\(error)"]) }
        try recoverAfterRestart()
        link?.start { [weak self] in self?.reload() }
        let server = config.metricsAddress.map { address in
            AgentMetrics.serve(host: address.host, port: address.port, logger: logger) { [weak self] in self?.status }
        }
        defer { server?.cancel() }
        while !isStopping {
            do {
                try tick()
            } catch {
                logger.error("tick failed", metadata: ["error": "\(error)"])
            }
            _ = wake.wait(timeout: .now() + config.tick)
        }
        let settled = jobs.stopAll(reason: AgentStopReason.text, timeout: 60)
        if !settled { logger.error("jobs did not stop within 60 s; they are settled at the next start") }
        try? tick(schedule: false)
        link?.stop(timeout: config.serverTimeout + 1)
        throttle.cpu?.detach()
        logger.info("agent stopped")
        lock.release()
    }

    /// Asks the loop to end (SIGTERM, SIGINT); running jobs are cancelled and re-queued.
    public func stop() {
        state.withLock { stopRequested = true }
        wake.signal()
    }

    /// Re-reads the policy folder at the next tick (SIGHUP, `vbackup agent reload`).
    public func reload() {
        state.withLock { reloadRequested = true }
        link?.pollNow()   // an enrolled agent also asks the server now
        wake.signal()
    }

    /// Runs the next tick now (a libvirt event, a test).
    public func poke() { wake.signal() }

    var isStopping: Bool { state.withLock { stopRequested } }

    /// The policies jobs read from their own threads.
    var policies: PolicySet { state.withLock { policiesInForce } }

    public var status: AgentStatus? { state.withLock { lastStatus } }

    func publish(_ status: AgentStatus) {
        state.withLock { lastStatus = status }
        metrics.observe(status)
        do { try status.write(to: config.stateDirectory) } catch { logger.error("cannot write status", metadata: ["error": "\(error)"]) }
    }

    func takeReloadRequest() -> Bool {
        state.withLock {
            defer { reloadRequested = false }
            return reloadRequested
        }
    }

    func setPolicies(_ set: PolicySet) { state.withLock { policiesInForce = set } }

    /// The connection jobs use (set by the tick thread, read by job threads).
    var currentConnection: LibvirtConnection? { state.withLock { connectionInUse } }

    func setConnection(_ connection: LibvirtConnection?) { state.withLock { connectionInUse = connection } }
}

/// Why a job was cancelled when the agent stopped: such jobs are re-queued, not failed.
enum AgentStopReason {
    static let text = "the agent stopped while the job ran"
}
