import CLibvirt

extension LibvirtDomain {
    /// One disk's counters (`virDomainBlockStatsFlags`); `target` is the device name (`vda`).
    /// The domain must be running. For many domains at once use `LibvirtConnection.allBlockStats()`.
    public func blockStats(_ target: String) throws -> BlockStats {
        var count: Int32 = 0
        // The first call, with no array, only says how many parameters there are.
        try check(virDomainBlockStatsFlags(pointer, target, nil, &count, 0), "virDomainBlockStatsFlags(\(name), \(target)) failed")
        var params = [virTypedParameter](repeating: virTypedParameter(), count: Int(count))
        return try params.withUnsafeMutableBufferPointer { buffer in
            try check(virDomainBlockStatsFlags(pointer, target, buffer.baseAddress, &count, 0),
                      "virDomainBlockStatsFlags(\(name), \(target)) failed")
            defer { virTypedParamsClear(buffer.baseAddress, count) }
            return TypedParameters(base: buffer.baseAddress, count: count).blockStats(.perDomain)
        }
    }
}

extension LibvirtConnection {
    /// Every running domain's disk counters in one RPC (`virConnectGetAllDomainStats` with
    /// `VIR_DOMAIN_STATS_BLOCK`), keyed by domain UUID, then by disk target (`vda`): what an
    /// agent sampling hundreds of domains every second needs instead of one call per disk.
    ///
    /// Asks with `NOWAIT`: a domain whose QEMU monitor is held by a job is not waited for, and
    /// comes back with no disks this time, so one stuck domain cannot stall the whole sample.
    public func allBlockStats() throws -> [String: [String: BlockStats]] {
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        let flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE.rawValue | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.rawValue
        let count = try check(virConnectGetAllDomainStats(pointer, VIR_DOMAIN_STATS_BLOCK.rawValue, &records, flags),
                              "virConnectGetAllDomainStats(block) failed")
        defer { virDomainStatsRecordListFree(records) }
        var result: [String: [String: BlockStats]] = [:]
        for i in 0..<Int(count) {
            guard let record = records?[i]?.pointee, let dom = record.dom,
                  let uuid = uuidString(of: dom) else { continue }
            result[uuid] = Self.disks(TypedParameters(base: record.params, count: record.nparams))
        }
        return result
    }

    /// `block.count` entries, each named by `block.<i>.name`. Without the BACKING flag libvirt
    /// lists only each disk's top image, so targets are unique.
    private static func disks(_ params: TypedParameters) -> [String: BlockStats] {
        var disks: [String: BlockStats] = [:]
        for i in 0..<(params.uint64("block.count") ?? 0) {
            guard let target = params.string("block.\(i).name") else { continue }
            disks[target] = params.blockStats(.bulk(index: i))
        }
        return disks
    }
}
