import Foundation
import VBackupModel

/// The drill's report for people: one self-contained HTML page (inline CSS, no script, no
/// external resource) with, per VM, the verdict, the point, the timings, each check with what it
/// saw, the store's errors and the console's last lines. Every text from outside (VM names,
/// console lines, script output, errors) is escaped.
public enum DrillHTMLReport {
    public static func render(_ report: DrillReport) -> String {
        let title = "vbackup drill \(report.id): \(report.outcome.rawValue)"
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>\(stylesheet)</style>
            </head><body>
            <h1>Drill <code>\(escape(report.id))</code> <span class="verdict \(report.outcome.rawValue)">\(verdict(report.outcome))</span></h1>
            <p class="meta">Host \(escape(report.host)) · started \(escape(time(report.startedAt))) · finished \(escape(time(report.finishedAt))) · \
            \(report.vms.count) VM\(report.vms.count == 1 ? "" : "s"), \(report.vms.filter { $0.outcome == .passed }.count) passed</p>

            """
        for vm in report.vms { html += section(vm) }
        if report.vms.isEmpty { html += "<p>No VM was drilled (the drill was cancelled before the first one).</p>\n" }
        html += "<footer>schema version \(report.schemaVersion)</footer>\n</body></html>\n"
        return html
    }

    /// Writes the page atomically: a temporary file in the same folder, renamed into place.
    public static func write(_ report: DrillReport, to url: URL) throws {
        try Data(render(report).utf8).write(to: url, options: .atomic)
    }

    private static func section(_ vm: DrillVMResult) -> String {
        var html = """
            <section class="vm \(vm.outcome.rawValue)">
            <h2>\(escape(vm.vm)) <span class="verdict \(vm.outcome.rawValue)">\(verdict(vm.outcome))</span></h2>

            """
        if let failure = vm.failure {
            html += "<p class=\"failure\">Failed in <b>\(escape(vm.failedStep ?? "?"))</b>: \(escape(failure))</p>\n"
        }
        html += "<table class=\"facts\">\n"
        let facts: [(String, String)] = [
            ("VM UUID", vm.vmUUID), ("Point", "\(vm.pointID) (taken \(time(vm.pointCreatedAt)))"), ("Sandbox", vm.sandboxName),
            ("Disks", vm.diskMode), ("Disks ready", seconds(vm.timings.disksReady)), ("Running", seconds(vm.timings.running)),
            ("Healthy (RTO)", seconds(vm.timings.healthy)), ("Teardown", seconds(vm.timings.teardown)),
            ("Cleaned up", vm.cleanedUp ? "yes" : "no"),
        ]
        for (name, value) in facts { html += "<tr><th>\(escape(name))</th><td>\(escape(value))</td></tr>\n" }
        html += "</table>\n<h3>Checks</h3>\n<table class=\"checks\"><tr><th>check</th><th>status</th><th>at</th><th>detail</th></tr>\n"
        for check in vm.checks {
            html += "<tr class=\"\(check.status.rawValue)\"><td>\(escape(check.kind.rawValue))</td><td>\(escape(check.status.rawValue))</td>"
                + "<td>\(escape(seconds(check.at)))</td><td>\(escape(check.detail))</td></tr>\n"
        }
        html += "</table>\n"
        if !vm.storeErrors.isEmpty {
            html += "<h3>Store errors</h3>\n<ul class=\"errors\">\n"
                + vm.storeErrors.map { "<li>\(escape($0))</li>\n" }.joined() + "</ul>\n"
        }
        html += "<h3>Console (last \(vm.consoleTail.count) lines)</h3>\n<pre>"
            + (vm.consoleTail.isEmpty ? "(nothing)" : vm.consoleTail.map(escape).joined(separator: "\n")) + "</pre>\n</section>\n"
        return html
    }

    /// Escapes text for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters (other than tab and newline) have no place in a page.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" || scalar.value == 0x7f { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    private static func verdict(_ outcome: DrillOutcome) -> String { outcome == .passed ? "PASSED" : "FAILED" }

    private static func seconds(_ value: Double?) -> String { value.map { String(format: "%.1f s", $0) } ?? "-" }

    private static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    private static let stylesheet = """
        body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d2329}\
        h1{font-size:1.5em}h2{font-size:1.25em;margin:0 0 .5em}h3{font-size:1em;margin:1.2em 0 .4em}\
        .meta,footer{color:#5b6670}footer{margin-top:2em;font-size:.85em}\
        .verdict{font-size:.8em;padding:.1em .5em;border-radius:.3em;color:#fff;vertical-align:middle}\
        .verdict.passed{background:#1f7a3a}.verdict.failed{background:#b3261e}\
        section.vm{border:1px solid #d0d7de;border-left-width:6px;border-radius:.4em;padding:1em 1.2em;margin:1.2em 0}\
        section.passed{border-left-color:#1f7a3a}section.failed{border-left-color:#b3261e}\
        .failure{background:#fdecea;padding:.5em .8em;border-radius:.3em}\
        table{border-collapse:collapse}th,td{text-align:left;padding:.2em .8em .2em 0;vertical-align:top}\
        table.checks td,table.checks th{border-bottom:1px solid #eaeef2}\
        tr.failed td:nth-child(2){color:#b3261e;font-weight:600}tr.passed td:nth-child(2){color:#1f7a3a}\
        tr.skipped td{color:#5b6670}\
        pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.85em;white-space:pre-wrap;word-break:break-all}\
        ul.errors{color:#b3261e}
        """
}
