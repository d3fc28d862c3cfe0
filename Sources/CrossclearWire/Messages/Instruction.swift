import CrossclearEngine

/// One instruction from the clearing node to a venue.
///
/// Ids are assigned by the clearing node per destination venue, from 1 without gaps, persisted
/// in its outbox before the first send, resent until acknowledged, and applied at most once by the
/// venue (which acknowledges a repeat again without applying it).
public struct Instruction: Sendable, Hashable {
    /// The instruction id (1 ... 2^63 - 1).
    public var id: UInt64
    /// What to do.
    public var body: InstructionBody

    /// Creates an instruction.
    public init(id: UInt64, body: InstructionBody) {
        self.id = id
        self.body = body
    }
}

/// What an instruction asks the venue to do.
public enum InstructionBody: Sendable, Hashable {
    /// Set the cross-margin credit in force for an account.
    case credit(CrossMarginCredit)
    /// One leg of a collateral move between venues.
    case collateralMove(CollateralMove)
    /// The pool took over positions of a backstop request.
    case backstopFill(BackstopFill)
    /// Auto-deleverage part of a position.
    case adl(ADLInstruction)

    /// The kind byte on the wire: 1 credit, 2 collateral move, 3 backstop fill, 4 ADL.
    public var kind: UInt8 {
        switch self {
        case .credit: 1
        case .collateralMove: 2
        case .backstopFill: 3
        case .adl: 4
        }
    }
}

/// The cross-margin credit the clearing node grants an account because its exposures elsewhere
/// offset this venue's: the venue lowers the account's maintenance threshold by this much. It
/// replaces the previous credit (0 revokes it), so applying it twice is harmless.
public struct CrossMarginCredit: Sendable, Hashable {
    /// The venue's account number.
    public var account: UInt32
    /// The threshold reduction, Amount raw units; 0 ... 10^18.
    public var thresholdReduction: Amount

    /// Creates a credit.
    public init(account: UInt32, thresholdReduction: Amount) {
        self.account = account
        self.thresholdReduction = thresholdReduction
    }
}

/// One leg of a move of collateral from an account on one venue to an account on another. The
/// clearing node sends the debit leg to the source venue and the credit leg to the destination
/// venue, each as its own instruction, under one `moveId`.
public struct CollateralMove: Sendable, Hashable {
    /// Which side of the move this instruction is.
    public enum Leg: UInt8, Sendable, Hashable {
        /// Take `amount` from `fromAccount` (sent to `fromVenue`).
        case debit = 1
        /// Add `amount` to `toAccount` (sent to `toVenue`).
        case credit = 2
    }

    /// The move's id, shared by both legs (1 ... 2^63 - 1).
    public var moveId: UInt64
    /// The source venue's name.
    public var fromVenue: String
    /// The source account on `fromVenue`.
    public var fromAccount: UInt32
    /// The destination venue's name.
    public var toVenue: String
    /// The destination account on `toVenue`.
    public var toAccount: UInt32
    /// The amount moved, Amount raw units; 1 ... 10^18.
    public var amount: Amount
    /// Which leg this is.
    public var leg: Leg

    /// Creates a collateral move leg.
    public init(
        moveId: UInt64, fromVenue: String, fromAccount: UInt32, toVenue: String, toAccount: UInt32, amount: Amount,
        leg: Leg
    ) {
        self.moveId = moveId
        self.fromVenue = fromVenue
        self.fromAccount = fromAccount
        self.toVenue = toVenue
        self.toAccount = toAccount
        self.amount = amount
        self.leg = leg
    }
}

/// One position transferred to the pool by a backstop fill.
public struct BackstopLeg: Sendable, Hashable {
    /// The asset index.
    public var asset: UInt16
    /// The size leaving the account, signed as the account held it (long positive), Quantity raw;
    /// non-zero, |raw| <= 10^18.
    public var quantity: Quantity
    /// The transfer price, Price raw units; 1 ... 10^18.
    public var price: Price

    /// Creates a leg.
    public init(asset: UInt16, quantity: Quantity, price: Price) {
        self.asset = asset
        self.quantity = quantity
        self.price = price
    }
}

/// The pool's answer to a ``BackstopRequest``: which positions it took over, at what prices, and
/// the cash settled with the account.
public struct BackstopFill: Sendable, Hashable {
    /// The venue's account number.
    public var account: UInt32
    /// The epoch of the request's change.
    public var requestEpoch: UInt64
    /// The sequence number of the request's change (1 ... 2^63 - 1).
    public var requestSequence: UInt64
    /// The positions taken over, strictly ascending by asset, 0 to 1,024.
    public var legs: [BackstopLeg]
    /// Cash paid to the account (negative: taken from it), Amount raw units; |raw| <= 10^18.
    public var cash: Amount

    /// Creates a backstop fill.
    public init(account: UInt32, requestEpoch: UInt64, requestSequence: UInt64, legs: [BackstopLeg], cash: Amount) {
        self.account = account
        self.requestEpoch = requestEpoch
        self.requestSequence = requestSequence
        self.legs = legs
        self.cash = cash
    }
}

/// Close part of an account's position against the pool's or a bankrupt account's, as one step of
/// a coordinated ADL round.
public struct ADLInstruction: Sendable, Hashable {
    /// The ADL round (1 ... 2^63 - 1); one round may send instructions to many venues.
    public var round: UInt64
    /// The venue's account number.
    public var account: UInt32
    /// The asset index.
    public var asset: UInt16
    /// The size to close, signed as the position is held (long positive), Quantity raw; non-zero,
    /// |raw| <= 10^18.
    public var quantity: Quantity
    /// The price the size is closed at, Price raw units; 1 ... 10^18.
    public var price: Price
    /// The loss allocated to the account on top of closing at `price`, Amount raw; 0 ... 10^18.
    public var haircut: Amount

    /// Creates an ADL instruction.
    public init(round: UInt64, account: UInt32, asset: UInt16, quantity: Quantity, price: Price, haircut: Amount) {
        self.round = round
        self.account = account
        self.asset = asset
        self.quantity = quantity
        self.price = price
        self.haircut = haircut
    }
}

/// Clearing to venue: instructions, strictly ascending by id.
public struct InstructionBatch: Sendable, Hashable {
    /// The instructions, 1 to 65,536.
    public var instructions: [Instruction]

    /// Creates a batch.
    public init(instructions: [Instruction]) { self.instructions = instructions }
}

/// Venue to clearing: instructions applied and journaled (including repeats of ones applied before).
public struct InstructionAck: Sendable, Hashable {
    /// The ids, strictly ascending, 1 to 65,536 of them.
    public var ids: [UInt64]

    /// Creates an acknowledgement.
    public init(ids: [UInt64]) { self.ids = ids }
}
