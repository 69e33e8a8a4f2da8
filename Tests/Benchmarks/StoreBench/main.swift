import Foundation

/// vbackup-storebench: builds synthetic stores through the real store API (packs, index
/// fragments, disk indexes, manifests), fast, for `Tests/Benchmarks/store-maintenance.sh`.
/// Each command prints one line of JSON describing what it built.
let usage = """
    usage: vbackup-storebench million --store DIR [--chunks 1000000] [--points 6] [--chunk-kib 4] [--pack-kib 64]
           vbackup-storebench points  --store DIR [--count 200] [--disk-mib 256] [--churn-percent 2] [--vm churn]
           vbackup-storebench import  --store DIR --file RAW --vm NAME [--chunk-kib 256]
    every command also takes --cache DIR (default: $VBACKUP_CACHE), the catalog cache vbackup uses
    """

let words = CommandLine.arguments
do {
    guard words.count >= 2 else { throw BenchError(usage) }
    let arguments = try Arguments(words.dropFirst(2))
    switch words[1] {
    case "million": try MillionCommand.run(arguments)
    case "points": try PointsCommand.run(arguments)
    case "import": try ImportCommand.run(arguments)
    default: throw BenchError(usage)
    }
} catch {
    FileHandle.standardError.write(Data("vbackup-storebench: \(error)\n".utf8))
    exit(1)
}
