import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

/// The agent's metrics, recorded through swift-metrics and exposed in Prometheus' text format
/// at `/metrics`. The factory can be bootstrapped once per process, so every agent in a
/// process (tests start several) shares one registry.
final class AgentMetrics: Sendable {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    private let bytesRead: Metrics.Counter
    private let bytesStored: Metrics.Counter
    private let throttled: Metrics.FloatingPointCounter
    private let duration: Metrics.Recorder
    private let running: Metrics.Gauge
    private let queued: Metrics.Gauge
    private let factor: Metrics.Gauge
    private let paused: Metrics.Gauge
    private let hostRate: Metrics.Gauge
    private let hostLimit: Metrics.Gauge
    private let cpuPressure: Metrics.Gauge
    private let ioPressure: Metrics.Gauge
    private let vmLatency: Metrics.Gauge

    init() {
        _ = Self.registry
        bytesRead = Metrics.Counter(label: "vbackup_read_bytes_total")
        bytesStored = Metrics.Counter(label: "vbackup_stored_bytes_total")
        throttled = Metrics.FloatingPointCounter(label: "vbackup_throttled_seconds_total")
        duration = Metrics.Recorder(label: "vbackup_job_duration_seconds", aggregate: true)
        running = Metrics.Gauge(label: "vbackup_jobs_running")
        queued = Metrics.Gauge(label: "vbackup_jobs_queued")
        factor = Metrics.Gauge(label: "vbackup_throttle_factor")
        paused = Metrics.Gauge(label: "vbackup_throttle_paused")
        hostRate = Metrics.Gauge(label: "vbackup_host_read_rate_bytes_per_second")
        hostLimit = Metrics.Gauge(label: "vbackup_host_bandwidth_limit_bytes_per_second")
        cpuPressure = Metrics.Gauge(label: "vbackup_host_cpu_pressure_percent")
        ioPressure = Metrics.Gauge(label: "vbackup_host_io_pressure_percent")
        vmLatency = Metrics.Gauge(label: "vbackup_vm_disk_latency_max_milliseconds")
    }

    func jobFinished(_ job: JobRecord) {
        Metrics.Counter(label: "vbackup_jobs_total",
                        dimensions: [("result", job.state.rawValue), ("policy", job.policy), ("kind", job.kind.rawValue)]).increment()
        bytesRead.increment(by: Int64(job.bytesRead))
        bytesStored.increment(by: Int64(job.bytesStored))
        throttled.increment(by: job.throttledSeconds)
        // Backup durations only: a drill's boot time would blur how long backups take.
        if job.kind == .backup, let start = job.startedAt, let end = job.finishedAt { duration.record(end.timeIntervalSince(start)) }
    }

    func observe(_ status: AgentStatus) {
        running.record(status.running.count)
        queued.record(status.queued.count)
        factor.record(status.throttle.factor)
        paused.record(status.throttle.state == "paused" ? 1 : 0)
        hostRate.record(status.throttle.hostRate)
        hostLimit.record(Double(status.throttle.hostLimit ?? 0))
        cpuPressure.record(status.throttle.signals.cpuPressure ?? 0)
        ioPressure.record(status.throttle.signals.ioPressure ?? 0)
        vmLatency.record(status.throttle.signals.vmDiskLatencyMs ?? 0)
    }

    /// Serves `/metrics` (Prometheus text) and `/status` (the status document) on `host:port`
    /// until the task is cancelled.
    static func serve(host: String, port: Int, logger: Logger, status: @escaping @Sendable () -> AgentStatus?) -> Task<Void, Never> {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: registry.emitToString())))
        }
        router.get("status") { _, _ -> Response in
            let data = (try? status().map { try AgentStatus.encoder.encode($0) }) ?? nil
            return Response(status: data == nil ? .serviceUnavailable : .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data ?? Data())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)))
        return Task {
            do { try await app.run() } catch { logger.error("metrics endpoint stopped", metadata: ["address": "\(host):\(port)", "error": "\(error)"]) }
        }
    }
}
