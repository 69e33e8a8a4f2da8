import FleetAPI
import Logging

/// The database's schema as an ordered list of migrations, and the one place that applies them.
///
/// `schema_version` holds the version reached. At open, one transaction applies every newer
/// migration and records the last version; a database already past this build's last
/// version is refused (an older server must not write into a schema it does not know).
/// On PostgreSQL the transaction first takes an advisory lock, so two server instances that
/// start together migrate one after the other; on SQLite BEGIN IMMEDIATE does the same.
///
/// Column conventions (the same SQL on both engines): times are BIGINT milliseconds since
/// 1970, booleans BIGINT 0/1, lists and maps TEXT holding JSON, ids TEXT (UUIDs).
/// Never edit a released migration: add one.
enum Schema {
    struct Migration: Sendable {
        var version: Int
        /// Statements for both engines, unless `postgresql` differs.
        var sqlite: [String]
        var postgresql: [String]

        init(version: Int, _ statements: [String]) {
            self.version = version
            sqlite = statements
            postgresql = statements
        }

        func statements(_ dialect: SQLDialect) -> [String] {
            dialect == .sqlite ? sqlite : postgresql
        }
    }

    static let migrations: [Migration] = [
        Migration(version: 1, [
            """
            CREATE TABLE admin_credentials (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL, revoked_at BIGINT)
            """,
            """
            CREATE TABLE hosts (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, groups_json TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE, agent_version TEXT NOT NULL, libvirt_version TEXT,
                enrolled_at BIGINT NOT NULL, last_contact BIGINT, revoked_at BIGINT,
                policy_errors_json TEXT NOT NULL DEFAULT '[]', policy_versions_json TEXT NOT NULL DEFAULT '{}',
                inventory_at BIGINT)
            """,
            // One live host per name; a revoked one keeps its name alongside its successor.
            "CREATE UNIQUE INDEX hosts_live_name ON hosts (name) WHERE revoked_at IS NULL",
            """
            CREATE TABLE enrollment_tokens (
                id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, host_name TEXT, groups_json TEXT NOT NULL,
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT, host_id TEXT)
            """,
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY, admin_id TEXT NOT NULL REFERENCES admin_credentials (id),
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
            """,
            "CREATE INDEX sessions_expiry ON sessions (expires_at)",
            """
            CREATE TABLE policy_versions (
                name TEXT NOT NULL, version BIGINT NOT NULL, yaml TEXT NOT NULL, sha256 TEXT NOT NULL,
                created_at BIGINT NOT NULL, author TEXT NOT NULL, PRIMARY KEY (name, version))
            """,
            // The live policies; a deleted policy's row goes, its versions stay.
            """
            CREATE TABLE policies (
                name TEXT PRIMARY KEY, version BIGINT NOT NULL, hosts_json TEXT NOT NULL,
                groups_json TEXT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE report_receipts (
                host_id TEXT NOT NULL REFERENCES hosts (id), report_id TEXT NOT NULL, kind TEXT NOT NULL,
                received_at BIGINT NOT NULL, PRIMARY KEY (host_id, report_id))
            """,
            """
            CREATE TABLE jobs (
                host_id TEXT NOT NULL REFERENCES hosts (id), id TEXT NOT NULL, vm_uuid TEXT NOT NULL,
                vm_name TEXT NOT NULL, policy TEXT NOT NULL, trigger_kind TEXT NOT NULL, state TEXT NOT NULL,
                full_backup BIGINT NOT NULL, queued_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT,
                bytes_read BIGINT NOT NULL, bytes_stored BIGINT NOT NULL, throttled_seconds DOUBLE PRECISION NOT NULL,
                overran BIGINT NOT NULL, error TEXT, point_id TEXT, PRIMARY KEY (host_id, id))
            """,
            "CREATE INDEX jobs_queued ON jobs (queued_at)",
            "CREATE INDEX jobs_started ON jobs (started_at)",
            "CREATE INDEX jobs_vm ON jobs (host_id, vm_uuid, queued_at)",
            """
            CREATE TABLE points (
                host_id TEXT NOT NULL REFERENCES hosts (id), id TEXT NOT NULL, vm_uuid TEXT NOT NULL,
                vm_name TEXT NOT NULL, store TEXT NOT NULL, created_at BIGINT NOT NULL, kind TEXT NOT NULL,
                logical_bytes BIGINT NOT NULL, stored_bytes BIGINT NOT NULL, job_id TEXT NOT NULL,
                PRIMARY KEY (host_id, id))
            """,
            "CREATE INDEX points_vm ON points (host_id, vm_uuid, created_at)",
            "CREATE INDEX points_created ON points (created_at)",
            """
            CREATE TABLE vms (
                host_id TEXT NOT NULL REFERENCES hosts (id), uuid TEXT NOT NULL, name TEXT NOT NULL,
                state TEXT NOT NULL, tags_json TEXT NOT NULL, disks_json TEXT NOT NULL, policy TEXT,
                maximum_point_age_seconds DOUBLE PRECISION, first_seen BIGINT NOT NULL, PRIMARY KEY (host_id, uuid))
            """,
            """
            CREATE TABLE store_usage (
                host_id TEXT NOT NULL REFERENCES hosts (id), report_id TEXT NOT NULL, store TEXT NOT NULL,
                at BIGINT NOT NULL, stored_bytes BIGINT NOT NULL, logical_bytes BIGINT NOT NULL,
                points BIGINT NOT NULL, PRIMARY KEY (host_id, report_id))
            """,
            "CREATE INDEX store_usage_at ON store_usage (at)",
        ]),
        // DR drills: agents journal them as jobs of kind drill, and report each VM's verdict.
        Migration(version: 2, [
            "ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'backup'",
            """
            CREATE TABLE drills (
                host_id TEXT NOT NULL REFERENCES hosts (id), drill_id TEXT NOT NULL, vm_uuid TEXT NOT NULL,
                vm_name TEXT NOT NULL, job_id TEXT, point_id TEXT NOT NULL, point_created_at BIGINT NOT NULL,
                started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL, outcome TEXT NOT NULL, failure TEXT,
                failed_step TEXT, disk_mode TEXT NOT NULL, running_seconds DOUBLE PRECISION, rto_seconds DOUBLE PRECISION,
                checks_json TEXT NOT NULL, PRIMARY KEY (host_id, drill_id, vm_uuid))
            """,
            "CREATE INDEX drills_vm ON drills (host_id, vm_uuid, finished_at)",
            "CREATE INDEX drills_finished ON drills (finished_at)",
        ]),
    ]

    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The key of the advisory lock that serializes migrations of one PostgreSQL database
    /// ("vbackup" in ASCII).
    static let postgresLockKey: Int64 = 0x7662_6163_6B75_70

    static func migrate(_ database: any SQLDatabase, logger: Logger) async throws {
        let dialect = database.dialect
        let applied = try await database.transaction { tx -> [Int] in
            if dialect == .postgresql {
                try await tx.execute("SELECT pg_advisory_xact_lock(?)", postgresLockKey)
            }
            try await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            let current = try await tx.queryFirst("SELECT MAX(version) AS version FROM schema_version")?
                .optionalInt64("version").map(Int.init) ?? 0
            guard current <= latestVersion else {
                throw FleetError.database(
                    "the database has schema version \(current), newer than this vbackup knows (\(latestVersion)): upgrade vbackup")
            }
            let pending = migrations.filter { $0.version > current }
            for migration in pending {
                for statement in migration.statements(dialect) {
                    try await tx.execute(statement)
                }
            }
            if !pending.isEmpty {
                try await tx.execute("DELETE FROM schema_version")
                try await tx.execute("INSERT INTO schema_version (version) VALUES (?)", latestVersion)
            }
            return pending.map(\.version)
        }
        if !applied.isEmpty {
            logger.info("fleet database schema migrated", metadata: ["versions": "\(applied)", "engine": "\(dialect.rawValue)"])
        }
    }
}
