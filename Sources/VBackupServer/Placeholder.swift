// The HTTP server: see Server.swift.
