/// The sign-in page. The token field is a password field so the credential is not shown on
/// screen nor kept in form history; the error, when there is one, comes first so a screen
/// reader reaches it before the form.
enum LoginPage {
    static func render(error: String?) -> HTML {
        let message: HTML = error.map { text -> HTML in "<p class=\"error\" role=\"alert\" id=\"login-error\">\(text)</p>\n" } ?? .empty
        let main: HTML = """
        <div class="login">
        <h1>Sign in</h1>
        \(message)<form method="post" action="/login">
        <label for="token">Admin token</label>
        <input type="password" id="token" name="token" autocomplete="off" required autofocus>
        <button type="submit" class="primary">Sign in</button>
        </form>
        </div>
        """
        return PageLayout.document(title: "Sign in · vbackup fleet", header: PageLayout.header(signedInAs: nil), main: main)
    }
}
