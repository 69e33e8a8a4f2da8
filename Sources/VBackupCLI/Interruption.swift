import Foundation
import Synchronization

/// Ctrl-C and SIGTERM ask the running job to stop; the job then ends its libvirt job and NBD
/// exports and removes what it half-wrote before exiting. A second signal exits at once.
enum Interruption {
    private static let requested = Atomic<Bool>(false)

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if Interruption.requested.exchange(true, ordering: .relaxed) { _exit(130) }
            }
        }
    }
}
