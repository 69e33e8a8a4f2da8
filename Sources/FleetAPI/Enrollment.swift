import Foundation

/// Admin: create a one-time token with which one host enrolls.
public struct EnrollmentTokenRequest: Codable, Sendable, Equatable {
    /// When set, only a host of this name can use the token.
    public var hostName: String?
    /// Groups the enrolled host joins (policies are assigned to host names and groups).
    public var groups: [String]
    /// Lifetime; default 86 400 (one day), at most 30 days.
    public var expiresInSeconds: Int?

    public init(hostName: String? = nil, groups: [String] = [], expiresInSeconds: Int? = nil) {
        self.hostName = hostName
        self.groups = groups
        self.expiresInSeconds = expiresInSeconds
    }
}

public struct EnrollmentTokenCreated: Codable, Sendable, Equatable {
    public var id: String
    /// Shown once; the server keeps only its SHA-256.
    public var token: String
    public var hostName: String?
    public var groups: [String]
    public var expiresAt: Date

    public init(id: String, token: String, hostName: String?, groups: [String], expiresAt: Date) {
        self.id = id
        self.token = token
        self.hostName = hostName
        self.groups = groups
        self.expiresAt = expiresAt
    }
}

/// Agent: trade the enrollment token for a host credential.
public struct EnrollRequest: Codable, Sendable, Equatable {
    public var token: String
    public var hostName: String
    public var agentVersion: String

    public init(token: String, hostName: String, agentVersion: String) {
        self.token = token
        self.hostName = hostName
        self.agentVersion = agentVersion
    }
}

public struct EnrollResponse: Codable, Sendable, Equatable {
    public var hostID: String
    public var hostName: String
    /// The host's own bearer token (`vbh_…`); shown once, kept hashed by the server.
    public var credential: String

    public init(hostID: String, hostName: String, credential: String) {
        self.hostID = hostID
        self.hostName = hostName
        self.credential = credential
    }
}
