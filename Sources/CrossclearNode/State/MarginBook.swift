import CrossclearEngine
import CrossclearWire

/// One venue's margin state as the wire carries it: every account's collateral and positions, and
/// every market's oracle and mark.
///
/// The venue keeps the book of what it has published and the clearing node keeps its view of the
/// venue; both are built by applying the same change stream with ``apply(_:)``, so when nothing is
/// lost or duplicated their ``digest()`` values are equal (the anti-entropy check).
public struct MarginBook: Sendable, Hashable {
    /// The largest account number a book holds (accounts are numbered densely from 0 on a venue;
    /// a larger number is absurd and refused before any memory is reserved for it).
    public static let maximumAccount: UInt32 = 1 << 24
    /// The largest trader number an account may name, other than ``VenueMachine/venueOwned`` (the
    /// clearing node keeps per-trader state in arrays indexed by it).
    public static let maximumTrader: UInt32 = 1 << 24

    /// The account states, indexed by account number (nil: never reported).
    public private(set) var accounts: [AccountState?] = []
    /// The latest prices per asset index (nil: never reported).
    public private(set) var marks: [MarkState?] = []

    /// An empty book.
    public init() {}

    /// Applies one change. Digests and backstop requests carry no margin state and leave the book
    /// as it is.
    ///
    /// - Throws: ``MarginBookError/accountOutOfRange(_:)`` for an account above ``maximumAccount``,
    ///   ``MarginBookError/traderOutOfRange(account:trader:)`` for a trader above ``maximumTrader``.
    public mutating func apply(_ body: ChangeBody) throws(MarginBookError) {
        switch body {
        case .account(let state):
            guard state.account <= Self.maximumAccount else { throw .accountOutOfRange(state.account) }
            guard state.trader <= Self.maximumTrader || state.trader == VenueMachine.venueOwned else {
                throw .traderOutOfRange(account: state.account, trader: state.trader)
            }
            let index = Int(state.account)
            if index >= accounts.count { accounts.append(contentsOf: repeatElement(nil, count: index + 1 - accounts.count)) }
            accounts[index] = state
        case .marks(let states):
            for state in states {
                let index = Int(state.asset)
                if index >= marks.count { marks.append(contentsOf: repeatElement(nil, count: index + 1 - marks.count)) }
                marks[index] = state
            }
        case .backstopRequest, .digest:
            break
        }
    }

    /// The account's state, if it was ever reported.
    public func account(_ number: UInt32) -> AccountState? {
        Int(number) < accounts.count ? accounts[Int(number)] : nil
    }

    /// The latest mark of an asset, if it was ever reported.
    public func mark(asset: Int) -> MarkState? {
        asset < marks.count ? marks[asset] : nil
    }

    /// FNV-1a over every reported account (ascending by number) and every mark (ascending by asset):
    /// equal books, equal digests, on every machine.
    public func digest() -> UInt64 {
        // Each group is added as `StateDigest.add(_: [Int64])` adds an array (its count, then its
        // words), without building one per account.
        var digest = StateDigest()
        for state in accounts {
            guard let state else { continue }
            digest.add(4)
            digest.add(Int64(state.account))
            digest.add(Int64(state.trader))
            digest.add(state.collateral.raw)
            digest.add(Int64(state.positions.count))
            for position in state.positions {
                digest.add(3)
                digest.add(Int64(position.asset))
                digest.add(position.quantity.raw)
                digest.add(position.basis.raw)
            }
        }
        for mark in marks {
            guard let mark else { continue }
            digest.add(3)
            digest.add(Int64(mark.asset))
            digest.add(mark.oracle.raw)
            digest.add(mark.mark.raw)
        }
        return digest.value
    }

    /// Totals for audits: collateral over every account, and per asset the net position (zero when
    /// long and short open interest are equal) and the long open interest.
    public func totals() -> MarginTotals {
        var totals = MarginTotals()
        for state in accounts {
            guard let state else { continue }
            totals.collateral += state.collateral.raw
            for position in state.positions {
                totals.add(asset: Int(position.asset), quantity: position.quantity.raw, basis: position.basis.raw)
            }
        }
        return totals
    }
}

/// Sums over a ``MarginBook``.
public struct MarginTotals: Sendable, Hashable {
    /// Collateral of every account, Amount raw.
    public var collateral: Int64 = 0
    /// Per asset index: the sum of signed sizes (Quantity raw; zero when the market balances).
    public var netQuantity: [Int64] = []
    /// Per asset index: long open interest (Quantity raw).
    public var longQuantity: [Int64] = []
    /// Per asset index: the sum of cost bases (Amount raw); the venue's settlement account holds its negation.
    public var basis: [Int64] = []

    mutating func add(asset: Int, quantity: Int64, basis: Int64) {
        if asset >= netQuantity.count {
            let missing = asset + 1 - netQuantity.count
            netQuantity.append(contentsOf: repeatElement(0, count: missing))
            longQuantity.append(contentsOf: repeatElement(0, count: missing))
            self.basis.append(contentsOf: repeatElement(0, count: missing))
        }
        netQuantity[asset] += quantity
        longQuantity[asset] += max(0, quantity)
        self.basis[asset] += basis
    }

    /// Whether every market's long and short open interest are equal.
    public var isBalanced: Bool { netQuantity.allSatisfy { $0 == 0 } }
}

/// A change the book cannot hold.
public enum MarginBookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An account number above ``MarginBook/maximumAccount``.
    case accountOutOfRange(UInt32)
    /// A trader number above ``MarginBook/maximumTrader`` (and not the venue's own).
    case traderOutOfRange(account: UInt32, trader: UInt32)

    public var description: String {
        switch self {
        case .accountOutOfRange(let account):
            "account \(account) is above the largest account number a venue may report (\(MarginBook.maximumAccount))"
        case .traderOutOfRange(let account, let trader):
            "account \(account) names trader \(trader), above the largest trader number a venue may report (\(MarginBook.maximumTrader))"
        }
    }
}
