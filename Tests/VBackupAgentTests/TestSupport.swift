import Foundation

/// A fresh folder under the system's temporary folder, removed by the caller's `defer`.
func temporaryFolder(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("vbackup-agent-tests-\(name.filter(\.isLetter))-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func remove(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}
