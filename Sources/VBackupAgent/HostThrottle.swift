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
    let cpu: CPUControl
    private let pressure: PressureReader
    private let latency = VMLatencySampler()
    private var adaptive: AdaptiveThrottle
    private var adaptiveKey = ""
    private var appliedCPU: String?
    private let logger: Logger
    private(set) var status: AgentStatus.Throttle
    private(set) var maxConcurrentJobs = 2
    private(set) var pausesNewJobs = false

    init(cpu: CPUControl, pressureRoot: String = "/proc/pressure", logger: Logger) {
        governor = BandwidthGovernor(hostLimit: nil)
        self.cpu = cpu
        pressure = PressureReader(root: pressureRoot)
        _ = pressure.sample()
        adaptive = AdaptiveThrottle()
        self.logger = logger
        status = AgentStatus.Throttle(state: "normal", factor: 1, reason: "no limits", hostLimit: nil, hostLimitSetBy: nil,
                                      effectiveHostLimit: nil, maxConcurrentJobs: 2, maxConcurrentJobsSetBy: nil,
                                      hostRate: 0, signals: AgentStatus.Signals())
    }

    func tick(limits: HostLimits, connection: LibvirtConnection?, vmNames: [String: String]) {
        governor.setHostLimit(limits.hostBandwidth?.value)
        maxConcurrentJobs = limits.maxConcurrentJobs.value
        applyCPU(limits)
        configureAdaptive(limits)
        let sample = pressure.sample()
        let worst = connection.flatMap { latency.worst(connection: $0, names: vmNames) }
        let signals = AdaptiveThrottle.Signals(cpuPressure: sample?.cpuSome, ioPressure: sample?.ioSome,
                                               vmDiskLatency: worst.map { ($0.milliseconds, $0.vm) })
        let previous = status.state
        let decision = adaptive.update(signals)
        governor.setFactor(decision.factor)
        pausesNewJobs = decision.state == .paused
        let snapshot = governor.snapshot()
        status = AgentStatus.Throttle(
            state: decision.state.rawValue, factor: decision.factor, reason: decision.reason,
            hostLimit: limits.hostBandwidth?.value, hostLimitSetBy: limits.hostBandwidth?.setBy,
            effectiveHostLimit: snapshot.effectiveHostRate, maxConcurrentJobs: limits.maxConcurrentJobs.value,
            maxConcurrentJobsSetBy: limits.maxConcurrentJobs.setBy, hostRate: snapshot.aggregateRate,
            signals: AgentStatus.Signals(cpuPressure: sample?.cpuSome, ioPressure: sample?.ioSome,
                                         vmDiskLatencyMs: worst?.milliseconds, vmDiskLatencyVM: worst?.vm))
        if status.state != previous {
            logger.notice("throttle \(status.state)", metadata: ["factor": "\(decision.factor)", "reason": "\(decision.reason)"])
        }
    }

    private func applyCPU(_ limits: HostLimits) {
        let wanted = CPULimits(quotaPercentOfOneCore: limits.cpuCap?.value, weight: limits.cpuWeight?.value)
        let key = "\(String(describing: wanted.quotaPercentOfOneCore))/\(String(describing: wanted.weight))"
        guard key != appliedCPU else { return }
        appliedCPU = key
        logger.info("cpu control", metadata: ["applied": "\(cpu.apply(wanted))"])
    }

    private func configureAdaptive(_ limits: HostLimits) {
        let thresholds = limits.adaptive
        let key = "\(thresholds)"
        guard key != adaptiveKey else { return }
        adaptiveKey = key
        adaptive.reconfigure(cpuPressure: thresholds.cpuPressure.map { .init(slow: $0.slow, pause: $0.pause) },
                             ioPressure: thresholds.ioPressure.map { .init(slow: $0.slow, pause: $0.pause) },
                             vmDiskLatency: thresholds.vmDiskLatency.map { .init(slow: $0.slow, pause: $0.pause) })
    }
}

/// The worst average disk latency of the running VMs over the last interval, from one
/// libvirt call for all domains (not one per VM per second).
final class VMLatencySampler {
    private var previous: [String: [String: BlockStats]] = [:]

    func worst(connection: LibvirtConnection, names: [String: String]) -> (milliseconds: Double, vm: String)? {
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
        return worst.map { (milliseconds: $0.0, vm: $0.1) }
    }
}
