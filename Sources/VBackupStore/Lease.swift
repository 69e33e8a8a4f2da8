import Foundation
import StorageAdapter

/// Who holds a lease, with enough to tell from any host whether the holder is still alive.
///
/// Leases are how processes on many hosts that share a store see each other: a write session
/// holds one under `sessions/` for as long as it may still commit, GC and repair hold the one
/// maintenance lock. A holder is alive while its process runs (checked directly when it is on
/// this host: same boot id, same pid, same process start time) or, on another host, while it
/// renewed its lease within `expiresAfter`. A SIGKILLed backup on this host is therefore seen as
/// dead at once; one on another host after the lease expires.
struct LeaseHolder: Codable, Sendable {
    var id: String
    var purpose: String
    var host: String
    var bootID: String
    var pid: Int32
    var processStart: UInt64
    var startedAt: Date
    var renewedAt: Date
    var expiresAfter: Double

    static func current(id: String, purpose: String, expiresAfter: Double) -> LeaseHolder {
        let now = Date()
        return LeaseHolder(
            id: id, purpose: purpose, host: ThisHost.name, bootID: ThisHost.bootID,
            pid: getpid(), processStart: ThisHost.processStart(getpid()) ?? 0, startedAt: now, renewedAt: now,
            expiresAfter: expiresAfter)
    }

    /// Whether the holder may still write. `modified` is the object's time as the storage saw it.
    ///
    /// "This host" needs the same boot id *and* host name: containers on one kernel share the
    /// boot id but not the pid namespace, and must judge each other by lease time.
    func isAlive(modified: Date?, now: Date = Date()) -> Bool {
        if bootID == ThisHost.bootID && !bootID.isEmpty && host == ThisHost.name {
            return ThisHost.processStart(pid) == processStart
        }
        let last = max(renewedAt, modified ?? renewedAt)
        return now.timeIntervalSince(last) < expiresAfter
    }

    var summary: String {
        "\(purpose) on \(host) (pid \(pid), since \(ISO8601DateFormatter().string(from: startedAt)))"
    }
}

/// Facts about this host and its processes, from `/proc`.
enum ThisHost {
    /// The name leases carry: `$VBACKUP_HOST_NAME` when set (several agents on one machine that
    /// must judge each other as separate hosts do, by lease time), else the host name.
    static let name: String = {
        if let name = ProcessInfo.processInfo.environment["VBACKUP_HOST_NAME"], !name.isEmpty { return name }
        return ProcessInfo.processInfo.hostName
    }()

    static let bootID: String = {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }()

    /// The process's start time in clock ticks since boot (field 22 of `/proc/PID/stat`), which
    /// tells a live process from a later one that reused its pid. Nil if there is no such process.
    static func processStart(_ pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}

/// A lease held by this process: an object renewed by a background thread until released.
final class HeldLease: @unchecked Sendable {
    let key: String
    private let adapter: any StorageAdapter
    private let condition = NSCondition()
    private var holder: LeaseHolder
    private var released = false
    private var lastRenewal: Date

    private init(key: String, adapter: any StorageAdapter, holder: LeaseHolder) {
        self.key = key
        self.adapter = adapter
        self.holder = holder
        self.lastRenewal = holder.renewedAt
    }

    /// The lease duration: `$VBACKUP_LEASE_SECONDS`, or 15 minutes.
    static var defaultDuration: Double {
        ProcessInfo.processInfo.environment["VBACKUP_LEASE_SECONDS"].flatMap(Double.init) ?? 900
    }

    /// Writes the lease object (replacing nothing: `exclusive` fails if the key exists).
    static func take(
        key: String, adapter: any StorageAdapter, purpose: String, exclusive: Bool,
        duration: Double = defaultDuration
    ) throws -> HeldLease? {
        let holder = LeaseHolder.current(id: UUID().uuidString.lowercased(), purpose: purpose, expiresAfter: duration)
        let data = try StoreJSON.encode(holder)
        if exclusive {
            guard try StoreError.mapping(key: key, { try adapter.createExclusive(key, data: data) }) else { return nil }
        } else {
            try StoreError.mapping(key: key) { try adapter.put(key, data: data) }
        }
        let lease = HeldLease(key: key, adapter: adapter, holder: holder)
        lease.startRenewing()
        return lease
    }

    /// Whether the lease is surely still valid for others: renewed within three quarters of
    /// its duration. A holder that was frozen longer must not commit anything.
    var isValid: Bool {
        condition.withLock { !released && Date().timeIntervalSince(lastRenewal) < holder.expiresAfter * 0.75 }
    }

    /// Stops renewing and deletes the lease object.
    func release() {
        let wasReleased = condition.withLock {
            defer { released = true; condition.broadcast() }
            return released
        }
        if !wasReleased { try? adapter.delete(key) }
    }

    private func startRenewing() {
        let interval = holder.expiresAfter / 4
        Thread.detachNewThread { [self] in
            while true {
                let stop = condition.withLock {
                    if !released { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
                    return released
                }
                if stop { return }
                renew()
            }
        }
    }

    private func renew() {
        var renewed = condition.withLock { holder }
        renewed.renewedAt = Date()
        guard let data = try? StoreJSON.encode(renewed) else { return }
        guard (try? adapter.put(key, data: data)) != nil else { return }
        condition.withLock {
            if released { try? adapter.delete(key) }  // released while writing: do not resurrect it
            holder = renewed
            lastRenewal = renewed.renewedAt
        }
    }
}
