/// Why a scenario (or cluster) file could not be loaded: which file, which line, which field, and what is wrong.
///
/// Its description reads like a compiler diagnostic:
/// `oct10.toml:12: venue[1].profile: unknown profile "cexx" (expected one of: hyperliquid, cex, dydx, drift, lighter)`.
/// Parts that do not apply are left out, e.g. `oct10.toml: name: missing required field` or
/// `scenarios/x.toml: cannot read scenario file (No such file or directory)`.
public struct ScenarioError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The file the problem is in: the scenario file as the caller named it, a price CSV (named relative
    /// to the caller's working directory the same way), or `override` for a malformed `KEY=VALUE`.
    public var file: String
    /// 1-based line in `file`; nil when the problem is about something absent from the file, or about a
    /// value that an override supplied.
    public var line: Int?
    /// Path of the field, e.g. `seed`, `venue[1].profile` (array indices count from 0),
    /// `population.leverage_weights[2]`; nil for syntax errors and unreadable files.
    public var field: String?
    /// What is wrong, without the location.
    public var message: String

    public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// `file:line: field: message`, leaving out what is nil.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let field { text += "\(field): " }
        return text + message
    }
}
