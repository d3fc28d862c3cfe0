import X509

/// Which nodes may be at the other end of a connection.
///
/// The clearing node accepts the venues named in the cluster (``anyOf(_:)``) or one given venue
/// (``exactly(_:)``); a venue accepts only the clearing node (``clearingNode``).
public struct PeerAuthorization: Hashable, Sendable, CustomStringConvertible {
    /// The nodes allowed, in the order given (duplicates removed). Empty allows nobody.
    public let allowedNodes: [NodeIdentity]

    /// Allows exactly the nodes in `nodes`.
    public init(allowing nodes: [NodeIdentity]) {
        var unique: [NodeIdentity] = []
        for node in nodes where !unique.contains(node) {
            unique.append(node)
        }
        self.allowedNodes = unique
    }

    /// Allows only `node`.
    public static func exactly(_ node: NodeIdentity) -> PeerAuthorization {
        PeerAuthorization(allowing: [node])
    }

    /// Allows any of `nodes` (for the clearing node: the venues named in the cluster).
    public static func anyOf(_ nodes: [NodeIdentity]) -> PeerAuthorization {
        PeerAuthorization(allowing: nodes)
    }

    /// Allows only the clearing node: what every venue uses when it dials.
    public static let clearingNode = PeerAuthorization.exactly(.clearing)

    /// Whether `node` is allowed.
    public func permits(_ node: NodeIdentity) -> Bool {
        allowedNodes.contains(node)
    }

    /// What is expected, as it reads after "expected ": `clearing`, `one of venue:a, venue:b`, or `no node at all`.
    public var description: String {
        switch allowedNodes.count {
        case 0: "no node at all"
        case 1: allowedNodes[0].name
        default: "one of " + allowedNodes.map(\.name).joined(separator: ", ")
        }
    }

    /// The decision for a peer whose certificate chain was verified against the cluster CA.
    ///
    /// Pure: no I/O, no clock. `validatedChain` starts with the peer's leaf certificate; `nil` or empty
    /// means no verified certificate is available and is refused.
    public func decide(validatedChain: [Certificate]?) -> PeerDecision {
        guard let leaf = validatedChain?.first else {
            return .reject(.noVerifiedCertificate)
        }
        let node: NodeIdentity
        do {
            node = try NodeIdentity(certificate: leaf)
        } catch {
            return .reject(.noNodeName(error))
        }
        guard permits(node) else {
            return .reject(.unexpectedNode(node, expected: self))
        }
        return .accept(node)
    }
}

/// The outcome of checking a peer's identity.
public enum PeerDecision: Hashable, Sendable {
    /// The peer is this node.
    case accept(NodeIdentity)
    /// The peer is refused, for this reason.
    case reject(PeerRejection)
}
