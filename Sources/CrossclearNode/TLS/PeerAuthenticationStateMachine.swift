/// The states of one connection's peer authentication, and what the handler must do on each event.
///
/// A value type with no I/O: ``PeerAuthenticationHandler`` feeds it events and carries out the actions.
struct PeerAuthenticationStateMachine {
    enum State: Hashable {
        /// The TLS handshake has not completed: reads cannot arrive yet, writes are held back.
        case awaitingHandshake
        /// The peer is this node: traffic flows.
        case authenticated(NodeIdentity)
        /// The peer was refused: the channel is closing, reads are dropped, writes fail.
        case rejected(PeerRejection)
    }

    private(set) var state: State = .awaitingHandshake

    /// What to do when the TLS handshake completes, given the pure decision on the peer.
    enum HandshakeCompletedAction: Hashable {
        /// Release held writes, then fire ``PeerAuthenticated``.
        case accept(NodeIdentity)
        /// Log, fail held writes, fire the rejection as an error, close.
        case reject(PeerRejection)
        /// Already decided (a second completion event): do nothing.
        case ignore
    }

    mutating func handshakeCompleted(_ decision: PeerDecision) -> HandshakeCompletedAction {
        guard case .awaitingHandshake = state else { return .ignore }
        switch decision {
        case .accept(let node):
            state = .authenticated(node)
            return .accept(node)
        case .reject(let rejection):
            state = .rejected(rejection)
            return .reject(rejection)
        }
    }

    /// What to do with an error travelling up the pipeline.
    enum ErrorAction: Hashable {
        /// The handshake failed: the handler works out the reason, then calls ``handshakeFailed(_:)``.
        case handshakeFailed
        /// An error on an authenticated connection: pass it on.
        case forward
        /// The connection was already refused: the error is a consequence; drop it.
        case drop
    }

    func errorCaught() -> ErrorAction {
        switch state {
        case .awaitingHandshake: .handshakeFailed
        case .authenticated: .forward
        case .rejected: .drop
        }
    }

    /// Records a failed handshake. Returns the rejection to carry out, or `nil` when already decided.
    mutating func handshakeFailed(_ rejection: PeerRejection) -> PeerRejection? {
        guard case .awaitingHandshake = state else { return nil }
        state = .rejected(rejection)
        return rejection
    }

    /// Records that the peer ended an authenticated connection with a TLS alert (under TLS 1.3 the
    /// dialing side completes its handshake before the server has judged its certificate, so a refusal
    /// arrives this way). Returns the rejection to carry out, or `nil` when not authenticated.
    mutating func peerAlert(_ rejection: PeerRejection) -> PeerRejection? {
        guard case .authenticated = state else { return nil }
        state = .rejected(rejection)
        return rejection
    }

    /// What to do when the channel goes inactive. Returns the rejection to carry out when the
    /// connection closed before any decision, or `nil`.
    mutating func channelInactive() -> PeerRejection? {
        handshakeFailed(.closedDuringHandshake)
    }

    /// Whether inbound data may pass (only once authenticated).
    var mayRead: Bool {
        if case .authenticated = state { return true }
        return false
    }

    /// What to do with an outbound write or flush.
    enum WriteAction: Hashable {
        case forward
        case hold
        case fail(PeerRejection)
    }

    var writeAction: WriteAction {
        switch state {
        case .awaitingHandshake: .hold
        case .authenticated: .forward
        case .rejected(let rejection): .fail(rejection)
        }
    }
}
