import Foundation
import VBackupStore

/// Where a passphrase comes from, first found wins: a file (`--passphrase-file` or
/// `$VBACKUP_PASSPHRASE_FILE`), `$VBACKUP_PASSPHRASE`, or a prompt without echo when stdin is a
/// terminal. Without any of them the command fails with one line saying how to pass it.
enum Passphrase {
    /// The passphrase of an existing key; `confirm` asks twice on a prompt (for a new one).
    static func read(file: String?, prompt: String, confirm: Bool = false) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = file ?? environment["VBACKUP_PASSPHRASE_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try fromFile(path)
        }
        if let value = environment["VBACKUP_PASSPHRASE"], !value.isEmpty { return value }
        return try fromTerminal(prompt, confirm: confirm, howToPass: "--passphrase-file PATH, $VBACKUP_PASSPHRASE_FILE or $VBACKUP_PASSPHRASE")
    }

    /// A new passphrase for `key passwd`: `--new-passphrase-file`, `$VBACKUP_NEW_PASSPHRASE`, or
    /// a prompt, twice.
    static func readNew(file: String?) throws -> String {
        if let file { return try fromFile(file) }
        if let value = ProcessInfo.processInfo.environment["VBACKUP_NEW_PASSPHRASE"], !value.isEmpty { return value }
        return try fromTerminal("New passphrase: ", confirm: true, howToPass: "--new-passphrase-file PATH or $VBACKUP_NEW_PASSPHRASE")
    }

    /// The file's first line, without its line end.
    static func fromFile(_ path: String) throws -> String {
        // A FileHandle, not FileManager.contents: the file may be a pipe (`<(pass show …)`).
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KeyError.badPassphrase("cannot read the passphrase file \(path)")
        }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() ?? Data() else {
            throw KeyError.badPassphrase("cannot read the passphrase file \(path)")
        }
        // `isNewline` ends the line at "\n" and at "\r\n" (one character to Swift) alike.
        let text = String(decoding: data, as: UTF8.self)
        let passphrase = String(text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline).first ?? "")
        guard !passphrase.isEmpty else { throw KeyError.badPassphrase("the passphrase file \(path) is empty") }
        return passphrase
    }

    static func fromTerminal(_ prompt: String, confirm: Bool, howToPass: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw KeyError.badPassphrase("the store is encrypted and none was given (stdin is not a terminal to ask on): use \(howToPass)")
        }
        let first = try ask(prompt)
        guard !first.isEmpty else { throw KeyError.badPassphrase("it is empty") }
        if confirm, try ask("Repeat it: ") != first { throw KeyError.badPassphrase("the two entries differ") }
        return first
    }

    /// One line from the terminal with echo off (restored afterwards).
    private static func ask(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        let isTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if isTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer {
            if isTerminal { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw KeyError.badPassphrase("no input") }
        return line
    }
}
