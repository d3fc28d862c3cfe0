import CrossclearWire

/// Why a transport service refused a configuration or a call, or a link cannot go on.
public enum TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A configuration value is outside what the protocol or the service allows.
    case invalidConfiguration(String)
    /// Instructions were addressed to a venue the clearing server is not configured to accept.
    case unknownVenue(String)
    /// A journal record written by the transport could not be read back (the journal is damaged).
    case unreadableJournalRecord(String)
    /// The journal judged a change differently from the in-memory stream state (it refused to
    /// append it): the server fails closed for that connection and reloads the state.
    case journalDisagrees(String)
    /// The connection closed before the peer's certificate was accepted.
    case closedBeforeAuthentication
    /// The clearing node refused this venue in a way retrying cannot fix (unsupported version,
    /// unauthorized, stale epoch or forked history): an operator or a restart in a larger epoch
    /// is needed.
    case refused(Goodbye)
    /// The clearing node's Welcome contradicts the venue's journal: the histories forked and the
    /// venue must restart in a larger epoch and restate.
    case forked(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let detail): "invalid transport configuration: \(detail)"
        case .unknownVenue(let venue): "unknown venue \(venue)"
        case .unreadableJournalRecord(let detail): "unreadable journal record: \(detail)"
        case .journalDisagrees(let detail): "the journal disagrees with the stream state: \(detail)"
        case .closedBeforeAuthentication: "the connection closed before the peer was authenticated"
        case .refused(let goodbye): "refused by the clearing node: \(goodbye.reason) (\(goodbye.detail))"
        case .forked(let detail): "history forked from the clearing node's: \(detail)"
        }
    }
}
