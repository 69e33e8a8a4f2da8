import Foundation
import LibvirtClient
import Logging
import ResourceControl
import VBackupPolicy

/// The host-wide brakes, re-evaluated every tick: the bandwidth and concurrency limits the
/// policies set for this time of day, the CPU group's cap and weight, and the adaptive factor
/// driven by host pressure (PSI) and the VMs' own disk latency.
///
/// The adaptive signal is taken from what the *workloads* feel (pressure stalls, VM I/O
/// latency), not from the backup's own speed: the aim is that a VM never waits for its
/// backup, as in Veeam's storage latency control, whatever the backup target can take.
final class HostThrottle {
    let governor: BandwidthGovernor
    /// Nil when the agent does not manage its CPU (it runs inside another program's process).
    let cpu: CPUControl?
    private var pressure: PressureReader
    private let latency = VMLatencySampler()
    private var adaptive = AdaptiveThrottle()
    private var appliedCPU: CPULimits?
    private let logger: Logger
    private(set) var status: AgentStatus.Throttle
    private(set) var maxConcurrentJobs = HostLimits.defaultMaxConcurrentJobs
    private(set) var pausesNewJobs = false

    init(cpu: CPUControl?, pressureRoot: String = "/proc/pressure", logger: Logger) {
        governor = BandwidthGovernor(hostLimit: nil)
        self.cpu = cpu
        pressure = PressureReader(root: pressureRoot)
        _ = pressure.sample()
        self.logger = logger
        status = AgentStatus.Throttle(state: "normal", factor: 1, reason: "no limits", hostLimit: nil, hostLimitSetBy: nil,
                                      effectiveHostLimit: nil, maxConcurrentJobs: maxConcurrentJobs, maxConcurrentJobsSetBy: nil,
                                      hostRate: 0, signals: AgentStatus.Signals())
    }

    var cpuDescription: String { cpu?.description ?? "not managed (the agent runs inside another program)" }

    func tick(limits: HostLimits, connection: LibvirtConnection?, vmNames: [String: String]) {
        governor.setHostLimit(limits.hostBandwidth?.value)
        maxConcurrentJobs = limits.maxConcurrentJobs.value
        applyCPU(limits)
        configureAdaptive(limits)
        let sample = pressure.sample()
        let worst = connection.flatMap { latency.worst(connection: $0, names: vmNames) }
        let previous = status.state
        let decision = adaptive.update(AdaptiveThrottle.Signals(cpuPressure: sample?.cpuSome, ioPressure: sample?.ioSome, vmDiskLatency: worst))
        governor.setFactor(decision.factor)
        pausesNewJobs = decision.state == .paused
        let snapshot = governor.snapshot()
        status = AgentStatus.Throttle(
            state: decision.state.rawValue, factor: decision.factor, reason: decision.reason,
            hostLimit: limits.hostBandwidth?.value, hostLimitSetBy: limits.hostBandwidth?.source?.description,
            effectiveHostLimit: snapshot.effectiveHostRate, maxConcurrentJobs: limits.maxConcurrentJobs.value,
            maxConcurrentJobsSetBy: limits.maxConcurrentJobs.source?.description, hostRate: snapshot.measuredRate,
            signals: AgentStatus.Signals(cpuPressure: sample?.cpuSome, ioPressure: sample?.ioSome,
                                         vmDiskLatencyMs: worst?.milliseconds, vmDiskLatencyVM: worst?.vm))
        if status.state != previous {
            logger.notice("throttle \(status.state)", metadata: ["factor": "\(decision.factor)", "reason": "\(decision.reason)"])
        }
    }

    private func applyCPU(_ limits: HostLimits) {
        guard let cpu else { return }
        let wanted = CPULimits(quotaPercentOfOneCore: limits.cpuPercent?.value, weight: limits.cpuWeight.value)
        guard wanted != appliedCPU else { return }
        appliedCPU = wanted
        logger.info("cpu control", metadata: ["applied": "\(cpu.apply(wanted))"])
    }

    /// Thresholds change in place, so a policy edit does not reset the throttle's state.
    private func configureAdaptive(_ limits: HostLimits) {
        adaptive.cpuPressure = Self.thresholds(limits.cpuPressure, scale: 1)
        adaptive.ioPressure = Self.thresholds(limits.ioPressure, scale: 1)
        adaptive.vmDiskLatency = Self.thresholds(limits.vmDiskLatency, scale: 1000)   // policy: seconds; throttle: ms
    }

    private static func thresholds(_ signal: HostLimits.Signal, scale: Double) -> AdaptiveThrottle.Thresholds? {
        switch (signal.slow?.value, signal.pause?.value) {
        case let (slow?, pause?): return .init(slow: slow * scale, pause: pause * scale)
        case let (slow?, nil): return .init(slow: slow * scale, pause: .infinity)
        case let (nil, pause?): return .init(slow: pause * scale, pause: pause * scale)
        case (nil, nil): return nil
        }
    }
}

/// The worst average disk latency of the running VMs over the last interval, from one
/// libvirt call for all domains (not one per VM per second).
final class VMLatencySampler {
    private var previous: [String: [String: BlockStats]] = [:]

    func worst(connection: LibvirtConnection, names: [String: String]) -> AdaptiveThrottle.VMLatency? {
        guard let current = try? connection.allBlockStats() else { return nil }
        defer { previous = current }
        var worst: (Double, String)?
        for (uuid, disks) in current {
            for (target, stats) in disks {
                guard let earlier = previous[uuid]?[target] else { continue }
                let latency = stats.latency(since: earlier)
                let value = max(latency.readMs ?? 0, latency.writeMs ?? 0)
                if latency.ops > 0, value > (worst?.0 ?? -1) { worst = (value, names[uuid] ?? uuid) }
            }
        }
        return worst.map { AdaptiveThrottle.VMLatency(vm: $0.1, milliseconds: $0.0) }
    }
}
