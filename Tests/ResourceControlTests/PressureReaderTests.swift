import Foundation
import ResourceControl
import Testing

/// PSI sampling: percent of wall time stalled between two samples, from the kernel's totals.
@Suite("Pressure reader")
struct PressureReaderTests {
    func psi(some: (Double, UInt64), full: (Double, UInt64)) -> String {
        """
        some avg10=\(some.0) avg60=0.00 avg300=0.00 total=\(some.1)
        full avg10=\(full.0) avg60=0.00 avg300=0.00 total=\(full.1)

        """
    }

    @Test("percentages are the growth of the stall totals over the wall time between samples")
    func fromTotals() throws {
        let tree = try TemporaryTree()
        try tree.file("cpu", psi(some: (2.5, 1_000_000), full: (0, 0)))
        try tree.file("io", psi(some: (1.0, 5_000_000), full: (0.5, 2_000_000)))
        let clock = ManualClock()
        var reader = PressureReader(root: tree.root, clock: clock)

        clock.advance(seconds: 2)
        try tree.file("cpu", psi(some: (3.1, 1_240_000), full: (0, 0)))           // +0.24 s of 2 s
        try tree.file("io", psi(some: (9.4, 5_940_000), full: (4.2, 2_200_000)))  // +0.94 s, +0.2 s
        let taken = reader.sample()
        let sample = try #require(taken)
        #expect(sample == PressureSample(cpuSome: 12, ioSome: 47, ioFull: 10, cpuSomeAvg10: 3.1, ioSomeAvg10: 9.4, ioFullAvg10: 4.2, interval: 2))

        clock.advance(seconds: 1)
        let next = reader.sample()
        let quiet = try #require(next)
        #expect(quiet.cpuSome == 0 && quiet.ioSome == 0 && quiet.interval == 1, "no growth since the last sample: no stall")
    }

    @Test("no PSI files means no sample, so the agent can say PSI is unavailable")
    func unavailable() throws {
        let tree = try TemporaryTree()
        var reader = PressureReader(root: tree.root + "/missing")
        let sample = reader.sample()
        #expect(sample == nil)
    }

    @Test("this host's /proc/pressure gives percentages between 0 and 100",
          .enabled(if: FileManager.default.fileExists(atPath: "/proc/pressure/io"), "the kernel has no PSI"))
    func realHost() throws {
        var reader = PressureReader()
        Thread.sleep(forTimeInterval: 0.5)
        let taken = reader.sample()
        let sample = try #require(taken)
        print("PSI over \(sample.interval) s: cpu some \(sample.cpuSome)%, io some \(sample.ioSome)%, io full \(sample.ioFull)% (avg10 \(sample.cpuSomeAvg10), \(sample.ioSomeAvg10), \(sample.ioFullAvg10))")
        #expect(abs(sample.interval - 0.5) < 0.25)
        for value in [sample.cpuSome, sample.ioSome, sample.ioFull] {
            #expect((0...100).contains(value))
        }
    }
}
