import ArgumentParser
import Foundation

/// `vbackup`: the root command is a namespace; each subcommand lives in its own file.
public struct VBackupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vbackup",
        abstract: "Back up and restore libvirt/QEMU VMs into a deduplicating, compressed store.",
        discussion: """
            Exit status: 0 on success, 1 when the operation failed (one line on stderr says why), \
            2 when a drill ran and a VM failed it, \
            3 when verify found damage or a restore with --allow-damaged left ranges unrestored, \
            64 for a usage error.
            """,
        subcommands: [VMsCommand.self, BackupCommand.self, RestoreCommand.self, MountCommand.self, PointsCommand.self,
                      PruneCommand.self, VerifyCommand.self, GCCommand.self, StoreCommand.self, KeyCommand.self,
                      PolicyCommand.self, AgentCommand.self, StatusCommand.self, DrillCommand.self, DemoCommand.self,
                      ServerCommand.self, HostsCommand.self, JobsCommand.self, CopyCommand.self]
    )

    public init() {}

    /// Runs the command line; every failure ends as one `vbackup: ...` line on stderr and a
    /// non-zero exit, never a stack trace.
    public static func runMain() -> Never {
        Interruption.install()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
            Foundation.exit(0)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as ValidationError {
            exit(withError: error)
        } catch where exitCode(for: error) != .failure {
            exit(withError: error)  // `--help` on a subcommand is thrown from `run()`: print the help
        } catch {
            // `--help` arrives here: ArgumentParser parses it as its help command, whose run throws.
            if exitCode(for: error) == .success { exit(withError: error) }
            FileHandle.standardError.write(Data("vbackup: \(OneLine.describe(error))\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// Errors from every layer, as one line.
enum OneLine {
    static func describe(_ error: Error) -> String {
        let text = "\(error)"
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
