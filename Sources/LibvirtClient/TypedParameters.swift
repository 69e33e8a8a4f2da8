import CLibvirt

/// Read access to a libvirt typed-parameter array (name, type, value union), borrowed: the
/// caller owns and frees the array (`virTypedParamsClear`/`Free`, or with its stats record).
struct TypedParameters {
    let base: virTypedParameterPtr?
    let count: Int32

    /// Any integer-typed parameter as UInt64, whatever width libvirt chose for it (the same
    /// counter is LLONG in `virDomainBlockStatsFlags` and ULLONG in the bulk stats). Negative
    /// values, libvirt's "not supported" marker, read as nil, as do absent or non-numeric ones.
    func uint64(_ name: String) -> UInt64? {
        guard let param = virTypedParamsGet(base, count, name)?.pointee else { return nil }
        switch UInt32(bitPattern: param.type) {
        case VIR_TYPED_PARAM_INT.rawValue: return param.value.i < 0 ? nil : UInt64(param.value.i)
        case VIR_TYPED_PARAM_UINT.rawValue: return UInt64(param.value.ui)
        case VIR_TYPED_PARAM_LLONG.rawValue: return param.value.l < 0 ? nil : UInt64(param.value.l)
        case VIR_TYPED_PARAM_ULLONG.rawValue: return param.value.ul
        default: return nil
        }
    }

    func string(_ name: String) -> String? {
        guard let param = virTypedParamsGet(base, count, name)?.pointee,
              UInt32(bitPattern: param.type) == VIR_TYPED_PARAM_STRING.rawValue,
              let value = param.value.s else { return nil }
        return String(cString: value)
    }

    /// Block stats under libvirt's names; `names` maps each `BlockStats` field to its key.
    func blockStats(_ names: BlockStatsKeys) -> BlockStats {
        BlockStats(
            readOps: uint64(names.readOps) ?? 0, readBytes: uint64(names.readBytes) ?? 0,
            readTimeNs: uint64(names.readTime) ?? 0,
            writeOps: uint64(names.writeOps) ?? 0, writeBytes: uint64(names.writeBytes) ?? 0,
            writeTimeNs: uint64(names.writeTime) ?? 0,
            flushOps: uint64(names.flushOps) ?? 0, flushTimeNs: uint64(names.flushTime) ?? 0)
    }
}

/// The two spellings libvirt uses for the same eight counters.
struct BlockStatsKeys {
    var readOps, readBytes, readTime, writeOps, writeBytes, writeTime, flushOps, flushTime: String

    /// `virDomainBlockStatsFlags`: `rd_operations`, `rd_total_times`, …
    static let perDomain = BlockStatsKeys(
        readOps: "rd_operations", readBytes: "rd_bytes", readTime: "rd_total_times",
        writeOps: "wr_operations", writeBytes: "wr_bytes", writeTime: "wr_total_times",
        flushOps: "flush_operations", flushTime: "flush_total_times")

    /// `virConnectGetAllDomainStats`: `block.<i>.rd.reqs`, `block.<i>.rd.times`, …
    static func bulk(index i: UInt64) -> BlockStatsKeys {
        BlockStatsKeys(
            readOps: "block.\(i).rd.reqs", readBytes: "block.\(i).rd.bytes", readTime: "block.\(i).rd.times",
            writeOps: "block.\(i).wr.reqs", writeBytes: "block.\(i).wr.bytes", writeTime: "block.\(i).wr.times",
            flushOps: "block.\(i).fl.reqs", flushTime: "block.\(i).fl.times")
    }
}
