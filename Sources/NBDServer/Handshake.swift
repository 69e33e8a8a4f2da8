/// What a finished handshake agreed on.
struct Negotiated {
    var exportName: String
    var source: any NBDExportSource
    var structuredReplies: Bool
    /// The context id of `base:allocation` when the client selected it for this export.
    var allocationContext: UInt32?

    var transmissionFlags: UInt16 {
        var flags = NBDTransmissionFlag.hasFlags | NBDTransmissionFlag.readOnly
            | NBDTransmissionFlag.sendFlush | NBDTransmissionFlag.canMultiConn
        // Every read is answered in one data chunk anyway, so "don't fragment" costs nothing;
        // the flag is only meaningful (and allowed) with structured replies.
        if structuredReplies { flags |= NBDTransmissionFlag.sendDF }
        return flags
    }
}

/// The fixed-newstyle handshake: greeting, client flags, then option haggling until the client
/// picks an export (GO or EXPORT_NAME) or aborts. Options this server does not know are answered
/// with `NBD_REP_ERR_UNSUP`; a stream that cannot be parsed ends the connection.
struct Handshake {
    static let allocationContextID: UInt32 = 1

    let socket: StreamSocket
    let exports: [String: any NBDExportSource]

    private var structuredReplies = false
    private var noZeroes = false
    /// `base:allocation` as selected by SET_META_CONTEXT, for the export it named.
    private var selectedContext: (export: String, id: UInt32)?

    init(socket: StreamSocket, exports: [String: any NBDExportSource]) {
        self.socket = socket
        self.exports = exports
    }

    /// The negotiated export, or nil when the client aborted.
    mutating func run() throws -> Negotiated? {
        var greeting = WireWriter()
        greeting.append(NBDWire.initMagic)
        greeting.append(NBDWire.optionMagic)
        greeting.append(NBDWire.flagFixedNewstyle | NBDWire.flagNoZeroes)
        try socket.write(greeting.bytes)

        var flags = WireReader(try socket.read(count: 4))
        let clientFlags: UInt32 = try parse { try flags.read() }
        guard clientFlags & ~(NBDWire.clientFixedNewstyle | NBDWire.clientNoZeroes) == 0 else {
            throw SessionEnd.malformed("unknown client flags \(clientFlags)")
        }
        noZeroes = clientFlags & NBDWire.clientNoZeroes != 0

        while true {
            var header = WireReader(try socket.read(count: 16))
            let (magic, option, length): (UInt64, UInt32, UInt32) = try parse {
                (try header.read(), try header.read(), try header.read())
            }
            guard magic == NBDWire.optionMagic else { throw SessionEnd.malformed("bad option magic") }
            guard length <= NBDLimits.maximumOption else { throw SessionEnd.malformed("option \(option) of \(length) bytes") }
            let payload = try socket.read(count: Int(length))
            switch try handle(option: option, payload: payload) {
            case .haggling: continue
            case .transmission(let negotiated): return negotiated
            case .aborted: return nil
            }
        }
    }

    private enum Outcome {
        case haggling
        case transmission(Negotiated)
        case aborted
    }

    /// Answers one option.
    private mutating func handle(option code: UInt32, payload: [UInt8]) throws -> Outcome {
        guard let option = NBDOption(rawValue: code) else {  // STARTTLS too: this server has no TLS
            try reply(code, .errUnsupported, message: "option \(code) is not supported")
            return .haggling
        }
        switch option {
        case .exportName:
            return .transmission(try exportName(String(decoding: payload, as: UTF8.self)))
        case .abort:
            try? reply(code, .ack)
            return .aborted
        case .list:
            try list(payload)
        case .structuredReply:
            guard payload.isEmpty else {
                try invalid(code, "STRUCTURED_REPLY takes no data")
                return .haggling
            }
            structuredReplies = true
            try reply(code, .ack)
        case .info, .go:
            if let negotiated = try infoOrGo(option, payload) { return .transmission(negotiated) }
        case .listMetaContext, .setMetaContext:
            try metaContext(option, payload)
        }
        return .haggling
    }

    private func exportName(_ name: String) throws -> Negotiated {
        guard let source = export(named: name) else { throw SessionEnd.malformed("no export named '\(name)'") }
        let negotiated = negotiatedExport(name, source)
        var message = WireWriter(capacity: 134)
        message.append(source.size)
        message.append(negotiated.transmissionFlags)
        if !noZeroes { message.appendZeroes(124) }
        try socket.write(message.bytes)
        return negotiated
    }

    private func list(_ payload: [UInt8]) throws {
        let code = NBDOption.list.rawValue
        guard payload.isEmpty else { return try invalid(code, "LIST takes no data") }
        for name in exports.keys.sorted() {
            var entry = WireWriter()
            entry.append(UInt32(name.utf8.count))
            entry.append(name)
            try reply(code, .server, entry.bytes)
        }
        try reply(code, .ack)
    }

    /// INFO and GO: the export's size, flags and block sizes; GO then enters transmission.
    private mutating func infoOrGo(_ option: NBDOption, _ payload: [UInt8]) throws -> Negotiated? {
        let code = option.rawValue
        guard let (name, requests) = Self.parseInfoRequest(payload) else {
            try invalid(code, "malformed \(option) request")
            return nil
        }
        guard let source = export(named: name) else {
            try reply(code, .errUnknown, message: "no export named '\(name)'")
            return nil
        }
        let negotiated = negotiatedExport(name, source)
        var info = WireWriter()
        info.append(NBDInfo.export.rawValue)
        info.append(source.size)
        info.append(negotiated.transmissionFlags)
        try reply(code, .info, info.bytes)
        if requests.contains(NBDInfo.name.rawValue) {
            var named = WireWriter()
            named.append(NBDInfo.name.rawValue)
            named.append(name)
            try reply(code, .info, named.bytes)
        }
        var sizes = WireWriter()
        sizes.append(NBDInfo.blockSize.rawValue)
        sizes.append(NBDLimits.minimumBlock)
        sizes.append(NBDLimits.preferredBlock)
        sizes.append(NBDLimits.maximumBlock)
        try reply(code, .info, sizes.bytes)
        try reply(code, .ack)
        return option == .go ? negotiated : nil
    }

    /// LIST_META_CONTEXT and SET_META_CONTEXT; the only context is `base:allocation`.
    private mutating func metaContext(_ option: NBDOption, _ payload: [UInt8]) throws {
        let code = option.rawValue
        guard structuredReplies else { return try invalid(code, "meta contexts need structured replies first") }
        guard let (name, queries) = Self.parseMetaContextRequest(payload) else {
            return try invalid(code, "malformed \(option) request")
        }
        guard export(named: name) != nil else {
            return try reply(code, .errUnknown, message: "no export named '\(name)'")
        }
        let allocation = NBDAllocation.contextName
        if option == .listMetaContext {
            if queries.isEmpty || queries.contains(where: { $0 == allocation || $0 == "base:" }) {
                try reply(code, .metaContext, contextReply(id: 0, allocation))
            }
        } else {
            selectedContext = nil
            if queries.contains(allocation) {
                selectedContext = (name, Self.allocationContextID)
                try reply(code, .metaContext, contextReply(id: Self.allocationContextID, allocation))
            }
        }
        try reply(code, .ack)
    }

    /// INFO/GO data: export name (32-bit length), 16-bit count, that many 16-bit info types.
    private static func parseInfoRequest(_ payload: [UInt8]) -> (name: String, requests: [UInt16])? {
        var reader = WireReader(payload)
        do {
            let name = try reader.readString()
            let count: UInt16 = try reader.read()
            var requests: [UInt16] = []
            for _ in 0..<count { requests.append(try reader.read()) }
            return reader.remaining == 0 ? (name, requests) : nil
        } catch {
            return nil
        }
    }

    /// META_CONTEXT data: export name, 32-bit count, that many queries (each length-prefixed).
    private static func parseMetaContextRequest(_ payload: [UInt8]) -> (name: String, queries: [String])? {
        var reader = WireReader(payload)
        do {
            let name = try reader.readString()
            let count: UInt32 = try reader.read()
            var queries: [String] = []
            for _ in 0..<count { queries.append(try reader.readString()) }
            return reader.remaining == 0 ? (name, queries) : nil
        } catch {
            return nil
        }
    }

    private func contextReply(id: UInt32, _ name: String) -> [UInt8] {
        var writer = WireWriter()
        writer.append(id)
        writer.append(name)
        return writer.bytes
    }

    /// The empty name is the default export when there is only one.
    private func export(named name: String) -> (any NBDExportSource)? {
        if let source = exports[name] { return source }
        if name.isEmpty, exports.count == 1 { return exports.values.first }
        return nil
    }

    private func negotiatedExport(_ name: String, _ source: any NBDExportSource) -> Negotiated {
        // A context selected for another export name does not carry over (the spec's rule).
        let context = selectedContext.flatMap { $0.export == name ? $0.id : nil }
        return Negotiated(exportName: name, source: source, structuredReplies: structuredReplies, allocationContext: context)
    }

    private func invalid(_ option: UInt32, _ message: String) throws {
        try reply(option, .errInvalid, message: message)
    }

    private func reply(_ option: UInt32, _ type: NBDOptionReply, message: String) throws {
        try reply(option, type, Array(message.utf8))
    }

    private func reply(_ option: UInt32, _ type: NBDOptionReply, _ data: [UInt8] = []) throws {
        var writer = WireWriter(capacity: 20 + data.count)
        writer.append(NBDWire.optionReplyMagic)
        writer.append(option)
        writer.append(type.rawValue)
        writer.append(UInt32(data.count))
        writer.append(data)
        try socket.write(writer.bytes)
    }

    private func parse<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw SessionEnd.malformed("truncated message")
        }
    }
}
