import ArgumentParser
import FleetAPI
import FleetClient
import Foundation

/// `vbackup jobs`: the fleet's jobs (backups and DR drills) as the agents reported them to the
/// policy server.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List backup and drill jobs across the hosts of the policy server, newest first.")

    @OptionGroup var fleet: FleetOptions
    @Flag(help: "Only failed jobs.") var failed = false
    @Option(help: ArgumentHelp("Only this host's jobs (id or name).", valueName: "host")) var host: String?
    @Option(help: ArgumentHelp("Only this VM's jobs (name or UUID).", valueName: "vm")) var vm: String?
    @Option(help: ArgumentHelp("At most this many jobs (server default 100, at most 1000).", valueName: "n")) var limit: Int?
    @Flag(help: "Print JSON: [JobInfo].") var json = false

    func validate() throws {
        if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit wants 1 to 1000") }
    }

    func run() throws {
        let (failed, host, vm, limit) = (failed, host, vm, limit)
        let jobs = try fleet.call { client in
            var hostID: String?
            if let host { hostID = try HostsCommand.Revoke.resolve(host, among: try await client.hosts()) }  // the API wants the id
            return try await client.jobs(FleetClient.JobFilter(failed: failed, host: hostID, vm: vm, limit: limit))
        }
        if json { return try APIOutput.print(jobs) }
        print(Human.table(["STARTED", "HOST", "VM", "POLICY", "KIND", "TRIGGER", "STATE", "TOOK", "READ", "RATE", "NOTE"], jobs.map { job in
            let took = job.startedAt.flatMap { start in job.finishedAt.map { $0.timeIntervalSince(start) } }
            let state = job.state + (job.overran ? " (overran)" : "") + (job.fullBackup ? " full" : "")
            return [FleetText.date(job.startedAt ?? job.queuedAt), job.hostName, job.vmName, job.policy, job.kind, job.trigger, state,
                    FleetText.duration(took), Human.bytes(UInt64(max(0, job.bytesRead))),
                    job.bytesPerSecond.map { Human.bytes(UInt64($0)) + "/s" } ?? "-", job.error ?? ""]
        }))
    }
}
