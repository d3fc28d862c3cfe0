import CrossclearEngine

/// One entry of a venue's hash-chained margin-state stream.
///
/// `hash = SHA-256(previousHash || epoch || sequence || kind || payload)` (see ``ChainHasher``);
/// the triple (venue, epoch, sequence) identifies the change and is applied at most once.
public struct Change: Sendable, Hashable {
    /// The venue's epoch (0 ... 2^63 - 1).
    public var epoch: UInt64
    /// The position in the epoch, from 1 (1 ... 2^63 - 1), without gaps.
    public var sequence: UInt64
    /// The hash of the previous change of the epoch, or ``ChainHash/genesis`` for sequence 1.
    public var previousHash: ChainHash
    /// This change's hash.
    public var hash: ChainHash
    /// What changed.
    public var body: ChangeBody

    /// Creates a change; ``ChainHasher`` computes the hashes.
    public init(epoch: UInt64, sequence: UInt64, previousHash: ChainHash, hash: ChainHash, body: ChangeBody) {
        self.epoch = epoch
        self.sequence = sequence
        self.previousHash = previousHash
        self.hash = hash
        self.body = body
    }
}

/// The content of a change.
public enum ChangeBody: Sendable, Hashable {
    /// The full margin state of one account now (collateral and every open position).
    case account(AccountState)
    /// Oracle and mark prices now, for some assets.
    case marks([MarkState])
    /// The venue cannot liquidate an account in its own book and asks the pool to take it over.
    case backstopRequest(BackstopRequest)
    /// The venue's state digest after every earlier change of the epoch (anti-entropy).
    case digest(UInt64)

    /// The kind byte on the wire and in the hash: 1 account, 2 marks, 3 backstop request, 4 digest.
    public var kind: UInt8 {
        switch self {
        case .account: 1
        case .marks: 2
        case .backstopRequest: 3
        case .digest: 4
        }
    }
}

/// One open position: a signed size and its cost basis.
public struct PositionState: Sendable, Hashable {
    /// The asset index of the world (the clearing node's asset table).
    public var asset: UInt16
    /// Signed size (long positive), Quantity raw units (1e-8 of the asset); non-zero, |raw| <= 10^18.
    public var quantity: Quantity
    /// The signed notional paid for the position, Amount raw units (1e-6 USD); |raw| <= 10^18.
    public var basis: Amount

    /// Creates a position.
    public init(asset: UInt16, quantity: Quantity, basis: Amount) {
        self.asset = asset
        self.quantity = quantity
        self.basis = basis
    }
}

/// The full margin state of one venue account. It replaces whatever the clearing node held for
/// the account; a position absent from `positions` is closed.
public struct AccountState: Sendable, Hashable {
    /// The venue's account number.
    public var account: UInt32
    /// The trader identity the account belongs to (one trader may hold accounts on many venues).
    public var trader: UInt32
    /// Cash collateral, Amount raw units; may be negative (a loss beyond the deposit), |raw| <= 10^18.
    public var collateral: Amount
    /// Open positions, strictly ascending by asset, at most 1,024.
    public var positions: [PositionState]

    /// Creates an account state.
    public init(account: UInt32, trader: UInt32, collateral: Amount, positions: [PositionState]) {
        self.account = account
        self.trader = trader
        self.collateral = collateral
        self.positions = positions
    }
}

/// The prices of one asset on the venue.
public struct MarkState: Sendable, Hashable {
    /// The asset index.
    public var asset: UInt16
    /// The oracle (index) price, Price raw units (1e-8 USD); 1 ... 10^18.
    public var oracle: Price
    /// The mark price used for margin, Price raw units; 1 ... 10^18.
    public var mark: Price

    /// Creates a mark.
    public init(asset: UInt16, oracle: Price, mark: Price) {
        self.asset = asset
        self.oracle = oracle
        self.mark = mark
    }
}

/// A request that the mutual pool take over positions the venue cannot liquidate. The change's
/// (epoch, sequence) identifies the request; the answer is a ``BackstopFill`` naming it.
public struct BackstopRequest: Sendable, Hashable {
    /// The venue's account number.
    public var account: UInt32
    /// How far the account's equity is below zero (0 when it is not yet), Amount raw; 0 ... 10^18.
    public var deficit: Amount
    /// The positions offered, strictly ascending by asset, 0 to 1,024 (none: only a cash deficit).
    public var positions: [PositionState]

    /// Creates a backstop request.
    public init(account: UInt32, deficit: Amount, positions: [PositionState]) {
        self.account = account
        self.deficit = deficit
        self.positions = positions
    }
}

/// Venue to clearing: consecutive changes of one stream, in order.
public struct ChangeBatch: Sendable, Hashable {
    /// The changes, 1 to 65,536 (and as many as fit the maximum frame length).
    public var changes: [Change]

    /// Creates a batch.
    public init(changes: [Change]) { self.changes = changes }
}
