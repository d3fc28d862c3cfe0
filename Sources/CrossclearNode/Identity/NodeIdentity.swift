/// The name of one crossclear node: either the clearing node or a named venue.
///
/// The textual form is `clearing` or `venue:<name>`, where `<name>` is 1 to 63 characters of lowercase
/// `a-z`, `0-9` and `-`, starting with a letter or digit. Certificates carry the name as a SAN URI
/// `crossclear://node/<name>` (see ``uri``) and as the subject common name.
///
/// Parsing is strict: there is no case folding, trimming or alternative spelling.
public struct NodeIdentity: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// What kind of node this is.
    public enum Role: Hashable, Sendable {
        /// The single cross-venue clearing node.
        case clearing
        /// A venue node; the associated value is the bare venue name (`hyperliquid`, not `venue:hyperliquid`).
        case venue(String)
    }

    /// The role, and for a venue its validated bare name.
    public let role: Role

    /// The clearing node.
    public static let clearing = NodeIdentity(uncheckedRole: .clearing)

    /// The prefix every node URI starts with.
    public static let uriPrefix = "crossclear://node/"

    /// The longest bare venue name accepted.
    public static let maximumVenueNameLength = 63

    private init(uncheckedRole: Role) {
        self.role = uncheckedRole
    }

    /// A venue node named `name` (the bare name, such as `hyperliquid`).
    ///
    /// - Throws: ``NodeNameError`` when the name is empty, too long or uses other characters.
    public static func venue(_ name: String) throws(NodeNameError) -> NodeIdentity {
        try Self.validateVenueName(name)
        return NodeIdentity(uncheckedRole: .venue(name))
    }

    /// Parses the textual form: `clearing` or `venue:<name>`.
    ///
    /// - Throws: ``NodeNameError`` for anything else.
    public init(parsing text: String) throws(NodeNameError) {
        if text == "clearing" {
            self = .clearing
            return
        }
        guard text.hasPrefix("venue:") else {
            throw NodeNameError.unknownForm(text)
        }
        let name = String(text.dropFirst("venue:".count))
        self = try Self.venue(name)
    }

    /// Parses a node URI of the form `crossclear://node/<name>`.
    ///
    /// - Throws: ``NodeNameError/notANodeURI(_:)`` when the prefix is wrong, or the errors of
    ///   ``init(parsing:)`` for the name part.
    public init(uri: String) throws(NodeNameError) {
        guard uri.hasPrefix(Self.uriPrefix) else {
            throw NodeNameError.notANodeURI(uri)
        }
        try self.init(parsing: String(uri.dropFirst(Self.uriPrefix.count)))
    }

    /// The textual form: `clearing` or `venue:<name>`.
    public var name: String {
        switch role {
        case .clearing: "clearing"
        case .venue(let venue): "venue:\(venue)"
        }
    }

    /// The bare venue name, or `nil` for the clearing node.
    public var venueName: String? {
        if case .venue(let venue) = role { return venue }
        return nil
    }

    /// Whether this is the clearing node.
    public var isClearing: Bool { role == .clearing }

    /// The SAN URI that names this node in its certificate: `crossclear://node/<name>`.
    public var uri: String { Self.uriPrefix + name }

    /// A name usable as a file name stem: `clearing` or `venue-<name>` (the colon replaced by a hyphen).
    ///
    /// Distinct nodes always have distinct file names, and none of them is `ca`.
    public var fileSafeName: String {
        switch role {
        case .clearing: "clearing"
        case .venue(let venue): "venue-\(venue)"
        }
    }

    /// The textual form, same as ``name``.
    public var description: String { name }

    /// Orders the clearing node first, then venues by name.
    public static func < (lhs: NodeIdentity, rhs: NodeIdentity) -> Bool {
        switch (lhs.role, rhs.role) {
        case (.clearing, .clearing): false
        case (.clearing, .venue): true
        case (.venue, .clearing): false
        case (.venue(let l), .venue(let r)): l < r
        }
    }

    // MARK: - Validation

    private static func validateVenueName(_ name: String) throws(NodeNameError) {
        guard !name.isEmpty else {
            throw NodeNameError.invalidVenueName(name, reason: "the venue name is empty")
        }
        let bytes = Array(name.utf8)
        guard bytes.count <= maximumVenueNameLength else {
            throw NodeNameError.invalidVenueName(
                name, reason: "the venue name is longer than \(maximumVenueNameLength) characters")
        }
        for byte in bytes {
            let allowed =
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
            guard allowed else {
                throw NodeNameError.invalidVenueName(
                    name, reason: "only lowercase a-z, 0-9 and '-' are allowed")
            }
        }
        if bytes[0] == UInt8(ascii: "-") {
            throw NodeNameError.invalidVenueName(name, reason: "the venue name must not start with '-'")
        }
    }
}

/// Why a string (or a certificate) does not name a crossclear node.
public enum NodeNameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text is neither `clearing` nor `venue:<name>`.
    case unknownForm(String)
    /// The `<name>` of `venue:<name>` breaks the naming rule; `reason` says which part.
    case invalidVenueName(String, reason: String)
    /// A URI that does not start with `crossclear://node/`.
    case notANodeURI(String)
    /// The certificate has no `crossclear://node/...` URI in its subject alternative names.
    case noNodeURI
    /// The certificate carries more than one `crossclear://` URI, so it names no single node.
    case multipleNodeURIs([String])
    /// The certificate's subject is not exactly `CN=<node name>`.
    case subjectMismatch(expected: String, found: String)
    /// The certificate's extensions could not be decoded.
    case unreadableExtensions(String)

    public var description: String {
        switch self {
        case .unknownForm(let text):
            "'\(text)' is not a node name (expected 'clearing' or 'venue:<name>')"
        case .invalidVenueName(let name, let reason):
            "'\(name)' is not a valid venue name: \(reason)"
        case .notANodeURI(let uri):
            "'\(uri)' is not a node URI (expected '\(NodeIdentity.uriPrefix)<name>')"
        case .noNodeURI:
            "certificate names no crossclear node (no \(NodeIdentity.uriPrefix)... URI)"
        case .multipleNodeURIs(let uris):
            "certificate names several nodes: \(uris.joined(separator: ", "))"
        case .subjectMismatch(let expected, let found):
            "certificate subject is '\(found)', expected 'CN=\(expected)'"
        case .unreadableExtensions(let detail):
            "certificate extensions cannot be read: \(detail)"
        }
    }
}
