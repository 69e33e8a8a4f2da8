import FleetAPI
import Foundation

/// The frame every dashboard page shares: a complete HTML5 document whose only style is the
/// inline sheet and whose only images are inline SVG, because the server's Content Security
/// Policy allows nothing else (no script, no other origin).
enum PageLayout {
    static func document(title: String, header: HTML, main: HTML, refreshSeconds: Int? = nil) -> HTML {
        let refresh: HTML = refreshSeconds.map { seconds -> HTML in "<meta http-equiv=\"refresh\" content=\"\(seconds)\">\n" } ?? .empty
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(refresh)<title>\(title)</title>
        <link rel="icon" href="data:,">
        <style>\(Stylesheet.css)</style>
        </head>
        <body>
        \(header)
        <main>
        \(main)
        </main>
        </body>
        </html>

        """
    }

    /// The bar at the top; with a signed-in admin it names them and offers the sign-out
    /// button (a form, so it works without script and is a POST that a link cannot forge).
    static func header(signedInAs: String?) -> HTML {
        let account: HTML = signedInAs.map { name -> HTML in
            """
            <div class="account">Signed in as <strong>\(name)</strong>
            <form method="post" action="/logout"><button type="submit">Sign out</button></form></div>
            """
        } ?? .empty
        return """
        <header><span class="brand">vbackup fleet</span>\(account)</header>
        """
    }

    /// A titled block of the overview with the stable `id` that links and tests find it by.
    static func section(id: String, title: String, note: HTML = .empty, content: HTML) -> HTML {
        """
        <section id="\(id)">
        <h2>\(title)\(note)</h2>
        \(content)
        </section>
        """
    }

    /// Columns whose index is in `numeric` are right-aligned (their cells use class `num` too).
    static func table(headers: [String], numeric: Set<Int> = [], rows: [HTML]) -> HTML {
        let head = headers.enumerated().map { index, header -> HTML in
            numeric.contains(index) ? "<th class=\"num\">\(header)</th>" : "<th>\(header)</th>"
        }.joined()
        return """
        <table>
        <thead><tr>\(head)</tr></thead>
        <tbody>
        \(rows.joined(separator: "\n"))
        </tbody>
        </table>
        """
    }

    /// A time as its age ("3 min ago") with the exact time on hover, or "never".
    static func age(_ date: Date?, now: Date) -> HTML {
        guard let date else { return "<span class=\"muted\">never</span>" }
        return "<time datetime=\"\(APIJSON.formatDate(date))\" title=\"\(Format.time(date))\">\(Format.age(of: date, now: now))</time>"
    }

    static func emptyState(_ text: String) -> HTML {
        "<p class=\"empty\">\(text)</p>"
    }
}
