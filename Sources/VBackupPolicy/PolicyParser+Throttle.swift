import Foundation
import Yams

/// The `throttle:` section: base settings, time-of-day `limits` and `adaptive` thresholds.
extension PolicyParser {
    static let throttleKeys = ["job-bandwidth", "host-bandwidth", "max-concurrent-jobs", "cpu", "cpu-weight", "limits", "adaptive"]
    static let limitKeys = ["days", "hours", "timezone", "host-bandwidth", "job-bandwidth", "max-concurrent-jobs"]
    static let signalKeys = ["cpu-pressure", "io-pressure", "vm-disk-latency"]

    mutating func throttle(_ node: Node) -> Throttle? {
        guard let fields = reader.fields(node, path: "throttle", known: Self.throttleKeys) else { return nil }
        var throttle = Throttle()
        throttle.jobBandwidth = bandwidth(fields, "job-bandwidth")
        throttle.hostBandwidth = bandwidth(fields, "host-bandwidth")
        throttle.maxConcurrentJobs = concurrentJobs(fields)
        throttle.cpuPercent = reader.value(fields["cpu"], "throttle.cpu", expected: "a percentage such as 50%") {
            (text: String) throws(PolicyValueError) in
            let value = try Units.percent(text)
            guard (1...10_000).contains(value) else {
                throw PolicyValueError("must be from 1% to 10000% (percent of one core: 150% is one and a half), not \(text)")
            }
            return value
        }
        throttle.cpuWeight = reader.integer(
            fields["cpu-weight"], "throttle.cpu-weight", in: 1...10_000, expected: "a whole number from 1 to 10000")
        throttle.limits = fields["limits"].map { limits($0) } ?? []
        throttle.adaptive = fields["adaptive"].flatMap { adaptive($0) } ?? Adaptive()
        return throttle
    }

    private mutating func bandwidth(_ fields: Fields, _ key: String) -> Bandwidth? {
        reader.value(fields[key], fields.path(key), expected: Units.rateHelp, Units.bandwidth)
    }

    private mutating func concurrentJobs(_ fields: Fields) -> Int? {
        reader.integer(fields["max-concurrent-jobs"], fields.path("max-concurrent-jobs"), in: 1...1_000,
                       expected: "a whole number from 1 to 1000")
    }

    private mutating func limits(_ node: Node) -> [TimeLimit] {
        guard let items = reader.items(node, "throttle.limits", expected: "a list of limits (- hours: ...)",
                                       ifEmpty: "lists no limit (leave it out)") else { return [] }
        return items.enumerated().compactMap { limit($1, path: "throttle.limits[\($0)]") }
    }

    private mutating func limit(_ node: Node, path: String) -> TimeLimit? {
        guard let fields = reader.fields(node, path: path, known: Self.limitKeys, required: ["hours"]) else { return nil }
        let days = fields["days"].flatMap { daySet($0, fields.path("days")) }
        let hours = reader.value(fields["hours"], fields.path("hours"), expected: "a range of hours such as 08:00-18:00") {
            (text: String) throws(PolicyValueError) in try HoursOfDay(text)
        }
        let zone = timeZone(fields["timezone"], fields.path("timezone"))
        let host = bandwidth(fields, "host-bandwidth"), job = bandwidth(fields, "job-bandwidth"), jobs = concurrentJobs(fields)
        if ["host-bandwidth", "job-bandwidth", "max-concurrent-jobs"].allSatisfy({ fields[$0] == nil }) {
            reader.report(node, path, "sets none of host-bandwidth, job-bandwidth, max-concurrent-jobs, so it changes nothing")
        }
        guard let hours else { return nil }
        return TimeLimit(days: days, hours: hours, timeZone: zone?.zone ?? hostTimeZone, isHostTimeZone: zone == nil,
                         hostBandwidth: host, jobBandwidth: job, maxConcurrentJobs: jobs)
    }

    /// `Mon..Fri`, `"Mon,Wed"` or a YAML list `[Mon, Wed]`.
    private mutating func daySet(_ node: Node, _ path: String) -> DaySet? {
        let parse = { (text: String) throws(PolicyValueError) in try DaySet(text) }
        if case .sequence = node {
            guard let names = reader.list(node, path, ifEmpty: "names no day (leave it out for every day)", { $0 }) else {
                return nil
            }
            do {
                return try parse(names.joined(separator: ","))
            } catch {
                reader.report(node, path, error.message)
                return nil
            }
        }
        return reader.value(node, path, expected: "days such as Mon..Fri or Sat,Sun", parse)
    }

    private mutating func adaptive(_ node: Node) -> Adaptive? {
        guard let fields = reader.fields(node, path: "throttle.adaptive", known: Self.signalKeys) else { return nil }
        let pressure = { (text: String) throws(PolicyValueError) -> Double in
            let value = try Units.percent(text)
            guard value > 0 && value <= 100 else { throw PolicyValueError("must be above 0% and at most 100%, not \(text)") }
            return value
        }
        let latency = { (text: String) throws(PolicyValueError) -> Double in
            let value = try Units.latency(text)
            guard value > 0 else { throw PolicyValueError("must be longer than 0ms") }
            return value
        }
        return Adaptive(
            cpuPressure: fields["cpu-pressure"].flatMap { thresholds($0, fields.path("cpu-pressure"), pressure, Units.describe(percent:)) },
            ioPressure: fields["io-pressure"].flatMap { thresholds($0, fields.path("io-pressure"), pressure, Units.describe(percent:)) },
            vmDiskLatency: fields["vm-disk-latency"].flatMap {
                thresholds($0, fields.path("vm-disk-latency"), latency, Units.describe(latency:))
            })
    }

    /// `{slow: X, pause: Y}`: at least one, and `slow` below `pause`.
    private mutating func thresholds(
        _ node: Node, _ path: String, _ convert: (String) throws(PolicyValueError) -> Double, _ describe: (Double) -> String
    ) -> Thresholds? {
        guard let fields = reader.fields(node, path: path, known: ["slow", "pause"]) else { return nil }
        let expected = "a threshold such as " + (path.hasSuffix("latency") ? "20ms" : "40%")
        let slow = reader.value(fields["slow"], fields.path("slow"), expected: expected, convert)
        let pause = reader.value(fields["pause"], fields.path("pause"), expected: expected, convert)
        if fields["slow"] == nil && fields["pause"] == nil {
            reader.report(node, path, "sets neither slow nor pause")
        }
        if let slow, let pause, slow >= pause {
            reader.report(line: fields.keyLine("pause"), path,
                          "slow (\(describe(slow))) must be below pause (\(describe(pause))): jobs slow down before they pause")
        }
        return Thresholds(slow: slow, pause: pause)
    }
}
