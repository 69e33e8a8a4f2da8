/// Pull-mode backup and checkpoint XML for the one-disk test domain (see LAB-NOTES.md).
enum BackupXML {
    static func pull(socket: String, scratch: String, incrementalFrom: String? = nil) -> String {
        let incremental = incrementalFrom.map { "<incremental>\($0)</incremental>" } ?? ""
        return """
        <domainbackup mode='pull'>\(incremental)
          <server transport='unix' socket='\(socket)'/>
          <disks><disk name='vda' type='file'><scratch file='\(scratch)'/></disk></disks>
        </domainbackup>
        """
    }

    static func checkpoint(_ name: String) -> String {
        "<domaincheckpoint><name>\(name)</name><disks><disk name='vda' checkpoint='bitmap'/></disks></domaincheckpoint>"
    }
}
