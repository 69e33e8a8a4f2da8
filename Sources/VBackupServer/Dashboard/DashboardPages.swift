/// The dashboard's pages as pure functions of their input, so tests render exactly what the
/// server sends. The server adds the session check, the cookie and the Content Security
/// Policy (`default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:`);
/// these pages need nothing beyond it: no script, inline style, charts as inline SVG.
public enum DashboardPages {
    /// The sign-in form: POST /login with the admin token in the field `token`. `error` is
    /// shown above the form (the server's reason a sign-in failed).
    public static func login(error: String?) -> String {
        LoginPage.render(error: error).markup
    }

    /// The fleet at a glance: hosts, VMs (overdue ones first and red), failed and running
    /// jobs, store usage over time and the nightly throughput. It reloads itself every
    /// minute, which needs no script.
    public static func overview(_ snapshot: DashboardSnapshot) -> String {
        let main: HTML = """
        \(SummarySection.render(snapshot))
        \(HostsSection.render(snapshot.hosts, now: snapshot.now))
        \(VMsSection.render(snapshot.vms, now: snapshot.now))
        \(FailedJobsSection.render(snapshot.failedJobs, now: snapshot.now))
        \(RunningJobsSection.render(snapshot.runningJobs, now: snapshot.now))
        \(StoreUsageSection.render(snapshot.storeUsage, now: snapshot.now))
        \(ThroughputSection.render(snapshot.nights))
        """
        return PageLayout.document(
            title: "vbackup fleet", header: PageLayout.header(signedInAs: snapshot.signedInAs),
            main: main, refreshSeconds: 60
        ).markup
    }
}
