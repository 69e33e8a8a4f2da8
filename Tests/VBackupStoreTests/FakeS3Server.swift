import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import S3Storage

/// A tiny HTTP listener on loopback that answers like S3 from a script. Only for what the real
/// RGW cannot be made to do on demand: throttle (503 SlowDown) and hold requests open long
/// enough to count how many the adapter keeps in flight. Everything else is tested on RGW.
final class FakeS3Server: @unchecked Sendable {
    struct Answer: Sendable {
        var status: Int
        var body: String = ""
        /// How long to hold the request before answering.
        var delay: Double = 0

        static func error(_ status: Int, _ code: String) -> Answer {
            Answer(status: status, body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>scripted</Message></Error>")
        }
    }

    /// What the script sees of a request: method, URI and how many came before it.
    struct Seen: Sendable {
        var method: String
        var uri: String
        var number: Int
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: Channel!
    private let state = Locked((requests: 0, inFlight: 0, maximumInFlight: 0))
    let script: @Sendable (Seen) -> Answer

    /// Every bucket check (GET ?object-lock) is answered "no lock configuration"; `script`
    /// answers the rest.
    init(script: @escaping @Sendable (Seen) -> Answer) throws {
        self.script = script
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    deinit { try? group.syncShutdownGracefully() }

    var endpoint: String { "http://127.0.0.1:\(channel.localAddress!.port!)" }
    var requests: Int { state.value.requests }
    var maximumInFlight: Int { state.value.maximumInFlight }

    func stop() { try? channel.close().wait() }

    fileprivate func answer(method: String, uri: String) -> Answer {
        if uri.contains("object-lock") { return .error(404, "ObjectLockConfigurationNotFoundError") }
        let number = state.update { state -> Int in
            state.requests += 1
            state.inFlight += 1
            state.maximumInFlight = max(state.maximumInFlight, state.inFlight)
            return state.requests
        }
        return script(Seen(method: method, uri: uri, number: number))
    }

    fileprivate func finished(countedInFlight: Bool) {
        if countedInFlight { state.update { $0.inFlight -= 1 } }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: FakeS3Server
        var head: HTTPRequestHead?

        init(server: FakeS3Server) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                let counted = !head.uri.contains("object-lock")
                let answer = server.answer(method: head.method.rawValue, uri: head.uri)
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(answer.delay * 1000))) { [self] in
                    server.finished(countedInFlight: counted)
                    respond(loopContext.value, answer, isHead: head.method == .HEAD)
                }
            }
        }

        private func respond(_ context: ChannelHandlerContext, _ answer: Answer, isHead: Bool) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
            headers.add(name: "Content-Type", value: "application/xml")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status),
                                                                  headers: headers))), promise: nil)
            if !isHead && !answer.body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
