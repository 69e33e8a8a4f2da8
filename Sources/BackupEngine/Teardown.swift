/// Undo steps recorded as a multi-step setup goes (mount, attach, start), run newest first, so
/// a failure halfway, or the normal end, leaves nothing behind. Every step runs even when an
/// earlier one failed; the failures are reported together.
final class Teardown {
    private var steps: [(what: String, undo: () throws -> Void)] = []

    func add(_ what: String, _ undo: @escaping () throws -> Void) {
        steps.append((what, undo))
    }

    /// Runs every step once, newest first; returns what could not be undone.
    @discardableResult
    func run() -> [String] {
        var failures: [String] = []
        while let step = steps.popLast() {
            do {
                try step.undo()
            } catch {
                failures.append("\(step.what): \(error)")
            }
        }
        return failures
    }
}
