import FleetAPI
import FleetClient
import FleetDatabase
import Foundation
import Logging
import VBackupServer

/// The real policy server, in this process, on a SQLite file and a real port: started, stopped
/// and started again on the same port and database, as an agent sees a server restart.
final class LiveServer: @unchecked Sendable {
    let database: String
    let port: Int
    let url: URL
    let repository: any FleetRepository
    let admin: String
    private let task: Task<Void, any Error>

    static let quietLogger: Logger = {
        var logger = Logger(label: "vbackup.server.test")
        logger.logLevel = .critical
        return logger
    }()

    private init(database: String, port: Int, url: URL, repository: any FleetRepository, admin: String, task: Task<Void, any Error>) {
        self.database = database
        self.port = port
        self.url = url
        self.repository = repository
        self.admin = admin
        self.task = task
    }

    /// Opens (or reopens) the database in `folder`, makes an admin credential if `admin` is nil,
    /// and serves on `port` (0: a free one) until `stop()`.
    static func start(folder: URL, port: Int = 0, admin: String? = nil,
                      tls: ServerConfiguration.TLSFiles? = nil) async throws -> LiveServer {
        let database = "sqlite:" + folder.appendingPathComponent("server.db").path
        let repository = try await openFleetRepository(database, logger: quietLogger)
        let token: String
        if let admin { token = admin } else { token = try await repository.createAdminCredential(name: "tester", now: Date()) }
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let configuration = ServerConfiguration(database: database, host: "127.0.0.1", port: port, tls: tls, logger: quietLogger,
                                                onListening: { listening.yield($0) })
        let application = try PolicyServer.application(repository: repository, configuration: configuration)
        let task = Task {
            defer { listening.finish() }
            try await application.runService(gracefulShutdownSignals: [])
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            await repository.shutdown()
            _ = try await task.value
            throw FleetClientError.unreachable(server: "127.0.0.1:\(port)", reason: "the test server did not start")
        }
        let url = URL(string: "\(tls == nil ? "http" : "https")://127.0.0.1:\(bound)")!
        return LiveServer(database: database, port: bound, url: url, repository: repository, admin: token, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await repository.shutdown()
    }

    /// An admin's client.
    func adminClient(trust: FleetClient.Trust = .system) throws -> FleetClient {
        try FleetClient(server: url, credential: admin, trust: trust, timeout: .seconds(10))
    }
}

/// Runs blocking agent code (it waits on semaphores, as on the agent's own threads) on a thread
/// of its own, so the tests never hold a thread of the cooperative pool the server needs.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}
