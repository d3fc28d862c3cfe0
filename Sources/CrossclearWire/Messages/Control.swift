/// Clearing to venue: every change of `epoch` up to `upTo` is applied and durably journaled.
/// Cumulative: a later Ack covers everything an earlier one did.
public struct Ack: Sendable, Hashable {
    /// The epoch of the acknowledged changes (the connection's).
    public var epoch: UInt64
    /// The highest acknowledged sequence number (0 ... 2^63 - 1).
    public var upTo: UInt64

    /// Creates an acknowledgement.
    public init(epoch: UInt64, upTo: UInt64) {
        self.epoch = epoch
        self.upTo = upTo
    }
}

/// Either side: "still here". Sent when nothing else was sent for the heartbeat interval.
public struct Heartbeat: Sendable, Hashable {
    /// The sender's clock in milliseconds (informational: for latency estimates, never for ordering).
    public var sentAtMillis: UInt64
    /// From a venue: the last sequence number it has sent in the connection's epoch. From the
    /// clearing node: the last sequence number it has applied (as in its latest Ack).
    public var lastSequence: UInt64

    /// Creates a heartbeat.
    public init(sentAtMillis: UInt64, lastSequence: UInt64) {
        self.sentAtMillis = sentAtMillis
        self.lastSequence = lastSequence
    }
}

/// Clearing to venue: the stream cannot continue as sent.
public struct ResyncRequest: Sendable, Hashable {
    /// `n >= 1`: a gap; resend the connection's epoch from sequence `n`. `0`: a fork; the venue's
    /// history differs from what the clearing node applied, so the venue must reconnect in a larger
    /// epoch and restate its full state.
    public var fromSequence: UInt64
    /// Why, for logs (at most 1,024 UTF-8 bytes, no control characters).
    public var reason: String

    /// Creates a resync request.
    public init(fromSequence: UInt64, reason: String) {
        self.fromSequence = fromSequence
        self.reason = reason
    }
}

/// Why a connection is being closed, as sent in a ``Goodbye``.
public enum CloseReason: UInt8, Sendable, Hashable, CaseIterable {
    /// Orderly shutdown of the sender.
    case normal = 1
    /// The peer sent a frame that broke the protocol (see ``WireError``).
    case protocolError = 2
    /// The peer's protocol version is not supported.
    case unsupportedVersion = 3
    /// The venue's epoch is older than one the clearing node already accepted: the venue is fenced.
    case staleEpoch = 4
    /// The venue's history forked from what the clearing node applied: reconnect in a larger epoch.
    case fork = 5
    /// The venue named in the Hello does not match the peer certificate, or is unknown.
    case unauthorized = 6
    /// Nothing was received for the heartbeat timeout.
    case heartbeatTimeout = 7
    /// A newer connection of the same venue replaced this one.
    case superseded = 8
    /// The first frame was not a Hello (or a Hello came twice).
    case handshakeRequired = 9
    /// The sender cannot continue (for example its journal failed): it fails closed.
    case internalError = 10
}

/// Either side: the last frame before the sender closes the connection.
public struct Goodbye: Sendable, Hashable {
    /// The reason code.
    public var reason: CloseReason
    /// Details for logs (at most 1,024 UTF-8 bytes, no control characters).
    public var detail: String

    /// Creates a goodbye.
    public init(reason: CloseReason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// `text` made acceptable as a detail: control characters become spaces and the result is cut
    /// to at most 1,024 UTF-8 bytes on a character boundary.
    public static func sanitizedDetail(_ text: String) -> String {
        var result = ""
        var length = 0
        for scalar in text.unicodeScalars {
            let clean = isForbiddenInText(scalar) ? " " : scalar
            let size = String(clean).utf8.count
            if length + size > WireProtocol.maximumReasonLength { break }
            result.unicodeScalars.append(clean)
            length += size
        }
        return result
    }
}

/// Whether a scalar may not appear in free text: the C0 controls, DEL and the C1 controls.
func isForbiddenInText(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
}
