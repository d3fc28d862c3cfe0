// The value rules shared by the encoder and the decoder, so that both sides reject the same things.

/// The allowed range of a signed money, price or size raw value (bound: 10^18).
enum MagnitudeRule {
    /// -10^18 ... 10^18.
    case signed
    /// -10^18 ... 10^18, but not 0.
    case nonZero
    /// 0 ... 10^18.
    case nonNegative
    /// 1 ... 10^18.
    case positive

    @inline(__always) func admits(_ value: Int64) -> Bool {
        let bound = WireProtocol.maximumMagnitude
        switch self {
        case .signed: return value >= -bound && value <= bound
        case .nonZero: return value != 0 && value >= -bound && value <= bound
        case .nonNegative: return value >= 0 && value <= bound
        case .positive: return value > 0 && value <= bound
        }
    }

    var allowed: String {
        switch self {
        case .signed: "-10^18...10^18"
        case .nonZero: "-10^18...10^18 except 0"
        case .nonNegative: "0...10^18"
        case .positive: "1...10^18"
        }
    }
}

/// The allowed range of an epoch, sequence number or id (bound: 2^63 - 1).
enum PositionRule {
    /// 0 ... 2^63 - 1.
    case any
    /// 1 ... 2^63 - 1.
    case positive

    @inline(__always) func admits(_ value: UInt64) -> Bool {
        value <= WireProtocol.maximumPosition && (self == .any || value > 0)
    }

    var allowed: String {
        switch self {
        case .any: "0...2^63-1"
        case .positive: "1...2^63-1"
        }
    }
}

/// Allowed element counts of the arrays of version 1.
enum CountRule {
    static let batch = 1...WireProtocol.maximumBatchCount
    static let accountPositions = 0...WireProtocol.maximumPositions
    static let offeredPositions = 0...WireProtocol.maximumPositions
    static let marks = 1...WireProtocol.maximumMarks
    static let snapshotAccounts = 0...WireProtocol.maximumSnapshotAccounts
    static let snapshotMarks = 0...WireProtocol.maximumMarks
    static let snapshotParts = 1...WireProtocol.maximumSnapshotParts
}

/// Allowed string lengths in bytes.
enum StringRule {
    static let venueName = 1...WireProtocol.maximumVenueNameLength
    static let reason = 0...WireProtocol.maximumReasonLength
}

/// Why `bytes` is not a venue name (`a-z`, `0-9`, `-`, not starting with `-`), or nil if it is one.
/// The length is checked separately.
func venueNameProblem(_ bytes: some Sequence<UInt8>) -> String? {
    var first = true
    for (index, byte) in bytes.enumerated() {
        let allowed = (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || (byte == 0x2D && !first)
        if !allowed { return "byte \(index) of the name (0x\(hex(byte))) is not a-z, 0-9 or an inner -" }
        first = false
    }
    return nil
}

/// Why `text` is not acceptable free text (a control character), or nil.
func reasonProblem(_ text: String) -> String? {
    for (index, scalar) in text.unicodeScalars.enumerated() where isForbiddenInText(scalar) {
        return "character \(index) is the control character U+\(String(scalar.value, radix: 16, uppercase: true))"
    }
    return nil
}
