/// The NBD protocol's numbers, as the spec names them
/// (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md). Everything on the wire
/// is big-endian.
enum NBDWire {
    // Handshake.
    static let initMagic: UInt64 = 0x4e42_444d_4147_4943        // "NBDMAGIC"
    static let optionMagic: UInt64 = 0x4948_4156_454f_5054      // "IHAVEOPT"
    static let optionReplyMagic: UInt64 = 0x0003_e889_0455_65a9

    static let flagFixedNewstyle: UInt16 = 1 << 0
    static let flagNoZeroes: UInt16 = 1 << 1
    static let clientFixedNewstyle: UInt32 = 1 << 0
    static let clientNoZeroes: UInt32 = 1 << 1

    // Transmission phase.
    static let requestMagic: UInt32 = 0x2560_9513
    static let simpleReplyMagic: UInt32 = 0x6744_6698
    static let structuredReplyMagic: UInt32 = 0x668e_33ef
    static let requestHeaderSize = 28
    static let simpleReplyHeaderSize = 16
    static let structuredReplyHeaderSize = 20
}

/// The options this server answers during the handshake (others get `NBD_REP_ERR_UNSUP`).
enum NBDOption: UInt32 {
    case exportName = 1
    case abort = 2
    case list = 3
    case info = 6
    case go = 7
    case structuredReply = 8
    case listMetaContext = 9
    case setMetaContext = 10
}

/// Option reply types; errors have bit 31 set.
enum NBDOptionReply: UInt32 {
    case ack = 1
    case server = 2
    case info = 3
    case metaContext = 4
    case errUnsupported = 0x8000_0001
    case errPolicy = 0x8000_0002
    case errInvalid = 0x8000_0003
    case errUnknown = 0x8000_0006
    case errShutdown = 0x8000_0007
    case errTooBig = 0x8000_0009
}

/// `NBD_INFO_*` items of an `NBD_REP_INFO` reply.
enum NBDInfo: UInt16 {
    case export = 0
    case name = 1
    case description = 2
    case blockSize = 3
}

/// Transmission flags: what the export supports.
enum NBDTransmissionFlag {
    static let hasFlags: UInt16 = 1 << 0
    static let readOnly: UInt16 = 1 << 1
    static let sendFlush: UInt16 = 1 << 2
    static let sendDF: UInt16 = 1 << 7
    static let canMultiConn: UInt16 = 1 << 8
}

enum NBDCommand: UInt16 {
    case read = 0
    case write = 1
    case disconnect = 2
    case flush = 3
    case trim = 4
    case cache = 5
    case writeZeroes = 6
    case blockStatus = 7
}

enum NBDCommandFlag {
    static let fua: UInt16 = 1 << 0
    static let noHole: UInt16 = 1 << 1
    static let dontFragment: UInt16 = 1 << 2
    static let requestOne: UInt16 = 1 << 3
    static let fastZero: UInt16 = 1 << 4
}

enum NBDReplyType: UInt16 {
    case none = 0
    case offsetData = 1
    case blockStatus = 5
    case error = 0x8001
}

enum NBDReplyFlag {
    static let done: UInt16 = 1 << 0
}

/// The error values a reply may carry (the spec restricts them to these).
enum NBDErrno: UInt32 {
    case eperm = 1
    case eio = 5
    case einval = 22
    case eoverflow = 75
    case eshutdown = 108
}

/// `base:allocation` flags.
enum NBDAllocation {
    static let contextName = "base:allocation"
    static let hole: UInt32 = 1 << 0
    static let zero: UInt32 = 1 << 1
}

/// What the server tells clients about request sizes: any alignment, 64 KiB preferred, and at
/// most 32 MiB per request (QEMU's own limit, and what libnbd and nbdcopy ask for).
enum NBDLimits {
    static let minimumBlock: UInt32 = 1
    static let preferredBlock: UInt32 = 64 << 10
    static let maximumBlock: UInt32 = 32 << 20
    /// Longest option payload accepted: names and queries are at most 4 KiB each by the spec.
    static let maximumOption: UInt32 = 64 << 10
    /// At most this many extents in one block-status reply.
    static let maximumExtents = 1 << 16
}
