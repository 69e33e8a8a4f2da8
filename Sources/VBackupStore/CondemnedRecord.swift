import Foundation
import StorageAdapter

/// A garbage collector's published intent to delete packs and orphan objects (`gc/<id>.json`).
///
/// Write sessions read every record when they start and never deduplicate against a condemned
/// pack; GC deletes a record's packs only once every session that was running when the record
/// was published (`waitFor`) has ended. See `GarbageCollector` for why that is safe.
struct CondemnedRecord: Codable, Sendable {
    static let prefix = "gc/"

    var id: String
    var createdAt: Date
    var host: String
    var packs: [String]
    /// Keys under `points/` that belong to no committed point.
    var objects: [String]
    /// Session ids alive just after the record was first written; nil until GC has listed them.
    var waitFor: [String]?

    var key: String { Self.prefix + id + ".json" }

    init(packs: [String], objects: [String]) {
        id = Store.newPointID(at: Date())
        createdAt = Date()
        host = ThisHost.name
        self.packs = packs
        self.objects = objects
    }
}

extension Store {
    /// Every readable condemned record, and the keys of unreadable ones.
    func condemnedRecords() throws -> (records: [CondemnedRecord], unreadable: [String]) {
        let listed = try io(CondemnedRecord.prefix) { try adapter.list(prefix: CondemnedRecord.prefix) }
        var records: [CondemnedRecord] = [], unreadable: [String] = []
        for object in listed.sorted(by: { $0.key < $1.key }) where object.key.hasSuffix(".json") {
            guard let data = try? adapter.get(object.key) else { continue }
            if let record = try? StoreJSON.decode(CondemnedRecord.self, from: data) {
                records.append(record)
            } else {
                unreadable.append(object.key)
            }
        }
        return (records, unreadable)
    }

    /// The packs a new write session must treat as absent. An unreadable record is ignored
    /// here: GC replaces it with a new one, waiting for the sessions running then.
    func condemnedPacks() throws -> Set<String> {
        Set(try condemnedRecords().records.flatMap(\.packs))
    }

    func put(_ record: CondemnedRecord) throws {
        let data = try StoreJSON.encode(record)
        try io(record.key) { try adapter.put(record.key, data: data) }
    }
}
