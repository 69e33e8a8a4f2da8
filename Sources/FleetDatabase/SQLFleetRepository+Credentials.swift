import FleetAPI
import Foundation

/// Admin credentials, authentication, enrollment, revocation and dashboard sessions.
extension SQLFleetRepository {
    /// A host's last contact is written when it is at least this old, so that most polls of a
    /// large fleet cost one indexed read and no write. `HostInfo.health`'s 10 minutes allow it.
    static let lastContactResolution: TimeInterval = 30
    static let defaultEnrollmentLifetime = 86_400
    static let longestEnrollmentLifetime = 30 * 86_400

    func createAdminCredential(name: String, now: Date) async throws -> String {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw FleetError.invalid("an admin credential needs a name")
        }
        let token = Secrets.newToken(.admin)
        try await database.execute(
            "INSERT INTO admin_credentials (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
            Secrets.newID(), name, Secrets.digest(token), now)
        return token
    }

    func adminCredentialCount() async throws -> Int {
        try await database.queryFirst("SELECT COUNT(*) AS n FROM admin_credentials WHERE revoked_at IS NULL")?.int("n") ?? 0
    }

    /// No cache: a revoked credential fails on its next request. The prefix is checked first,
    /// so an enrollment or session token never authenticates as a principal.
    func authenticate(token: String, now: Date) async throws -> Principal? {
        switch TokenKind.of(token) {
        case .admin:
            guard let row = try await database.queryFirst(
                "SELECT id, name FROM admin_credentials WHERE token_hash = ? AND revoked_at IS NULL", Secrets.digest(token))
            else { return nil }
            return .admin(id: try row.string("id"), name: try row.string("name"))
        case .host:
            guard let row = try await database.queryFirst(
                "SELECT id, name, last_contact FROM hosts WHERE token_hash = ? AND revoked_at IS NULL", Secrets.digest(token))
            else { return nil }
            let id = try row.string("id")
            // The row read says how old the last contact is; no write unless it is stale.
            if let last = try row.optionalDate("last_contact"), now.timeIntervalSince(last) < Self.lastContactResolution {
                return .host(id: id, name: try row.string("name"))
            }
            try await database.execute(
                "UPDATE hosts SET last_contact = ? WHERE id = ? AND (last_contact IS NULL OR last_contact < ?)", now, id, now)
            return .host(id: id, name: try row.string("name"))
        case .enrollment, .session, nil:
            return nil
        }
    }

    func createEnrollmentToken(_ request: EnrollmentTokenRequest, now: Date) async throws -> EnrollmentTokenCreated {
        let lifetime = request.expiresInSeconds ?? Self.defaultEnrollmentLifetime
        guard (1...Self.longestEnrollmentLifetime).contains(lifetime) else {
            throw FleetError.invalid("expiresInSeconds must be between 1 and \(Self.longestEnrollmentLifetime) (30 days), not \(lifetime)")
        }
        if let name = request.hostName, name.isEmpty {
            throw FleetError.invalid("hostName, when given, must not be empty")
        }
        let token = Secrets.newToken(.enrollment)
        let id = Secrets.newID()
        let expiresAt = Date(milliseconds: now.milliseconds + Int64(lifetime) * 1000)
        try await database.execute(
            """
            INSERT INTO enrollment_tokens (id, token_hash, host_name, groups_json, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            id, Secrets.digest(token), request.hostName, try JSONColumn.encode(request.groups), now, expiresAt)
        return EnrollmentTokenCreated(id: id, token: token, hostName: request.hostName, groups: request.groups, expiresAt: expiresAt)
    }

    /// The token is marked used by a conditional UPDATE whose RETURNING row proves this
    /// transaction won it; a concurrent enroll with the same token gets no row and fails.
    /// An enroll under the name of a live host is a conflict (revoke it first): a token must
    /// not hand over another host's identity. Two tokens racing for one new name: the unique
    /// index on live names lets one win, the other is the same conflict.
    func enroll(_ request: EnrollRequest, now: Date) async throws -> EnrollResponse {
        guard TokenKind.of(request.token) == .enrollment else {
            throw FleetError.unauthenticated("not an enrollment token (vbe_…)")
        }
        guard !request.hostName.isEmpty else { throw FleetError.invalid("hostName must not be empty") }
        let taken = "host \(request.hostName) is already enrolled; revoke it first"
        return try await explainingConflict(taken) {
            try await database.transaction { tx in
                let token = try await usableEnrollmentToken(request, now: now, tx: tx)
                if try await tx.queryFirst("SELECT id FROM hosts WHERE name = ? AND revoked_at IS NULL", request.hostName) != nil {
                    throw FleetError.conflict(taken)
                }
                let hostID = Secrets.newID()
                let won = try await tx.query(
                    "UPDATE enrollment_tokens SET used_at = ?, host_id = ? WHERE id = ? AND used_at IS NULL RETURNING id",
                    now, hostID, try token.string("id"))
                guard !won.isEmpty else { throw FleetError.unauthenticated("enrollment token already used") }
                let credential = Secrets.newToken(.host)
                try await tx.execute(
                    """
                    INSERT INTO hosts (id, name, groups_json, token_hash, agent_version, enrolled_at, last_contact)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    hostID, request.hostName, try token.string("groups_json"), Secrets.digest(credential),
                    request.agentVersion, now, now)
                return EnrollResponse(hostID: hostID, hostName: request.hostName, credential: credential)
            }
        }
    }

    /// The token's row, when it exists, is unused, unexpired and not bound to another name.
    private func usableEnrollmentToken(_ request: EnrollRequest, now: Date, tx: any SQLExecutor) async throws -> SQLRow {
        guard let token = try await tx.queryFirst(
            "SELECT id, host_name, groups_json, expires_at, used_at FROM enrollment_tokens WHERE token_hash = ?",
            Secrets.digest(request.token))
        else { throw FleetError.unauthenticated("unknown enrollment token") }
        guard try token.optionalInt64("used_at") == nil else {
            throw FleetError.unauthenticated("enrollment token already used")
        }
        guard try token.date("expires_at") > now else { throw FleetError.unauthenticated("enrollment token expired") }
        if let boundName = try token.optionalString("host_name"), boundName != request.hostName {
            throw FleetError.unauthenticated("this enrollment token is for host \(boundName), not \(request.hostName)")
        }
        return token
    }

    /// Revoking twice keeps the first time.
    func revokeHost(id: String, now: Date) async throws -> HostInfo {
        try await database.transaction { tx in
            let found = try await tx.query("UPDATE hosts SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING id", now, id)
            guard !found.isEmpty else { throw FleetError.notFound("no host with id \(id)") }
            return try await HostReader(tx: tx, now: now).host(id: id).host
        }
    }

    func createSession(adminID: String, expiresAt: Date, now: Date) async throws -> String {
        guard expiresAt > now else { throw FleetError.invalid("a session must expire in the future") }
        let token = Secrets.newToken(.session)
        try await database.transaction { tx in
            guard try await tx.queryFirst(
                "SELECT id FROM admin_credentials WHERE id = ? AND revoked_at IS NULL", adminID) != nil
            else { throw FleetError.notFound("no admin credential with id \(adminID)") }
            // Expired sessions are cleared here, where they are cheap to find (indexed) and few.
            try await tx.execute("DELETE FROM sessions WHERE expires_at <= ?", now)
            try await tx.execute(
                "INSERT INTO sessions (token_hash, admin_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                Secrets.digest(token), adminID, now, expiresAt)
        }
        return token
    }

    func session(token: String, now: Date) async throws -> Principal? {
        guard TokenKind.of(token) == .session else { return nil }
        guard let row = try await database.queryFirst(
            """
            SELECT a.id, a.name FROM sessions s JOIN admin_credentials a ON a.id = s.admin_id
            WHERE s.token_hash = ? AND s.expires_at > ? AND a.revoked_at IS NULL
            """, Secrets.digest(token), now)
        else { return nil }
        return .admin(id: try row.string("id"), name: try row.string("name"))
    }

    func deleteSession(token: String) async throws {
        try await database.execute("DELETE FROM sessions WHERE token_hash = ?", Secrets.digest(token))
    }
}
