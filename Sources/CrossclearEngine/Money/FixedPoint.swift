// Exact fixed-point numbers for money, prices, sizes and ratios.
//
// Every value is an Int64 count of a smallest unit; products and quotients go through Int128.
// One rounding rule applies everywhere (see `Docs/engine.md`): a division rounds in favour of the
// clearing layer. Concretely, whatever a trader is credited or is allowed to count as equity rounds
// down, whatever a trader owes or must hold as margin rounds up. Ledger entries always move one
// rounded amount from one account to another, so rounding decides who keeps a unit, never creates one.

/// How a division that does not come out even is rounded.
public enum RoundingRule: Sendable, Hashable {
    /// Toward negative infinity (floor).
    case down
    /// Toward positive infinity (ceiling).
    case up
}

/// Divides with an explicit rounding rule. `denominator` must not be zero.
@inlinable @inline(__always)
public func divide(_ numerator: Int128, by denominator: Int128, rounding: RoundingRule) -> Int128 {
    precondition(denominator != 0, "division by zero")
    // Fast path: most operands fit in 64 bits, where division is one machine instruction.
    if let n = Int64(exactly: numerator), let d = Int64(exactly: denominator), n != Int64.min {
        return Int128(roundedQuotient(n, d, rounding: rounding))
    }
    return roundedQuotient(numerator, denominator, rounding: rounding)
}

/// Truncating division, then one step toward the rounding rule when the division was inexact.
@inlinable @inline(__always)
func roundedQuotient<Integer: FixedWidthInteger & SignedInteger>(_ numerator: Integer, _ denominator: Integer,
                                                                 rounding: RoundingRule) -> Integer {
    let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
    guard remainder != 0 else { return quotient }
    let exactIsNegative = (remainder < 0) != (denominator < 0)
    switch rounding {
    case .down: return exactIsNegative ? quotient - 1 : quotient
    case .up: return exactIsNegative ? quotient : quotient + 1
    }
}

/// `a * b / divisor` (divisor > 0) through a 128-bit product and one 128/64 division, for any
/// divisor (the power-of-ten divisors of the hot paths use `multiplyDividePowerOfTen`). The result must fit in Int64 (overflow is a bug; inputs are range-checked).
@inlinable @inline(__always)
public func multiplyDivide(_ a: Int64, _ b: Int64, by divisor: Int64, rounding: RoundingRule) -> Int64 {
    precondition(divisor > 0, "divisor must be positive")
    let (quotient, remainder) = divisor.dividingFullWidth(a.multipliedFullWidth(by: b))
    guard remainder != 0 else { return quotient }
    switch rounding {
    case .down: return remainder < 0 ? quotient - 1 : quotient
    case .up: return remainder > 0 ? quotient + 1 : quotient
    }
}

/// `a * b / (2^twos * fives)`, rounded as asked, for the power-of-ten divisors of the hot paths
/// (10^10 = 2^10 * 5^10, 10^9 = 2^9 * 5^9). Exact: the 128-bit magnitude is shifted right by `twos`
/// and then divided limb by limb by `fives` (< 2^32), which the compiler turns into multiplications
/// when `fives` is a constant. The result must fit in Int64.
@inlinable @inline(__always)
func multiplyDividePowerOfTen(_ a: Int64, _ b: Int64, twos: UInt64, fives: UInt64, rounding: RoundingRule) -> Int64 {
    let negative = (a < 0) != (b < 0)
    let (high, low) = a.magnitude.multipliedFullWidth(by: b.magnitude)
    if high == 0 {
        // The product fits in 64 bits (most maintenance computations): one division by a constant.
        let divisor = fives << twos
        let quotient = low / divisor
        precondition(quotient <= UInt64(Int64.max), "fixed-point overflow")
        return rounded(Int64(quotient), negative: negative, inexact: quotient &* divisor != low, rounding: rounding)
    }
    let dropped = low & ((1 << twos) - 1)
    let shiftedLow = (low >> twos) | (high << (64 - twos))
    let shiftedHigh = high >> twos
    precondition(shiftedHigh < fives, "fixed-point overflow")
    let middle = (shiftedHigh << 32) | (shiftedLow >> 32)
    let quotientMiddle = middle / fives
    let last = ((middle % fives) << 32) | (shiftedLow & 0xFFFF_FFFF)
    let quotientLow = last / fives
    let magnitude = (quotientMiddle << 32) + quotientLow
    precondition(magnitude <= UInt64(Int64.max), "fixed-point overflow")
    return rounded(Int64(magnitude), negative: negative, inexact: dropped != 0 || last % fives != 0, rounding: rounding)
}

/// Applies a sign and a rounding rule to a truncated magnitude.
@inlinable @inline(__always)
func rounded(_ magnitude: Int64, negative: Bool, inexact: Bool, rounding: RoundingRule) -> Int64 {
    let truncated = negative ? -magnitude : magnitude
    guard inexact else { return truncated }
    switch rounding {
    case .down: return negative ? truncated - 1 : truncated
    case .up: return negative ? truncated : truncated + 1
    }
}

/// Narrows an Int128 intermediate back to Int64; overflow is a bug (inputs are range-checked at the edges).
@inlinable
public func narrow(_ value: Int128) -> Int64 {
    guard let result = Int64(exactly: value) else {
        preconditionFailure("fixed-point overflow: \(value) does not fit in Int64")
    }
    return result
}

/// A fixed-point decimal with a compile-time number of fractional digits.
public protocol FixedPointDecimal: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// Count of the smallest unit.
    var raw: Int64 { get }
    init(raw: Int64)
    /// Number of fractional decimal digits.
    static var decimals: Int { get }
}

extension FixedPointDecimal {
    /// Smallest units per whole unit (10^decimals).
    @inlinable public static var unit: Int64 { pow10(decimals) }
    @inlinable public static var zero: Self { Self(raw: 0) }

    /// A whole number of units, e.g. `Amount(whole: 5)` is 5 USD.
    @inlinable public init(whole: Int64) { self.init(raw: narrow(Int128(whole) * Int128(Self.unit))) }

    @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
    @inlinable public static func + (lhs: Self, rhs: Self) -> Self { Self(raw: lhs.raw + rhs.raw) }
    @inlinable public static func - (lhs: Self, rhs: Self) -> Self { Self(raw: lhs.raw - rhs.raw) }
    @inlinable public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
    @inlinable public static func -= (lhs: inout Self, rhs: Self) { lhs = lhs - rhs }
    @inlinable public static prefix func - (value: Self) -> Self { Self(raw: -value.raw) }
    @inlinable public var magnitude: Self { Self(raw: raw < 0 ? -raw : raw) }
    @inlinable public var isNegative: Bool { raw < 0 }
    @inlinable public var isPositive: Bool { raw > 0 }

    /// Encoded as the raw count of smallest units (exact, compact).
    public init(from decoder: any Decoder) throws { self.init(raw: try decoder.singleValueContainer().decode(Int64.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(raw)
    }

    /// Exact decimal text, e.g. "-12.5" (trailing zeros trimmed, at least one digit after the point
    /// only when there is a fraction).
    public var description: String { formatDecimal(raw, decimals: Self.decimals, minimumFractionDigits: 0) }

    /// Exact decimal text with a fixed number of fractional digits (truncated toward zero for display).
    public func formatted(fractionDigits: Int) -> String {
        let drop = Self.decimals - fractionDigits
        if drop <= 0 { return formatDecimal(raw, decimals: Self.decimals, minimumFractionDigits: fractionDigits) }
        return formatDecimal(raw / pow10(drop), decimals: fractionDigits, minimumFractionDigits: fractionDigits)
    }

    /// Parses exact decimal text such as "1", "-0.25" or "1_000.5". Returns nil for anything else,
    /// including more fractional digits than the type holds or a value out of range.
    public init?(parsing text: some StringProtocol) {
        guard let raw = parseDecimal(String(text), decimals: Self.decimals) else { return nil }
        self.init(raw: raw)
    }
}

@inlinable
func pow10(_ exponent: Int) -> Int64 {
    var result: Int64 = 1
    for _ in 0..<exponent { result *= 10 }
    return result
}

func formatDecimal(_ raw: Int64, decimals: Int, minimumFractionDigits: Int) -> String {
    let negative = raw < 0
    let magnitude = raw.magnitude
    let unit = UInt64(pow10(decimals))
    let whole = magnitude / unit
    var fraction = decimals > 0 ? String(magnitude % unit) : ""
    if decimals > 0 { fraction = String(repeating: "0", count: decimals - fraction.count) + fraction }
    while fraction.count > minimumFractionDigits, fraction.hasSuffix("0") { fraction.removeLast() }
    let sign = negative && magnitude != 0 ? "-" : ""
    return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}

func parseDecimal(_ text: String, decimals: Int) -> Int64? {
    var chars = Substring(text.filter { $0 != "_" })
    var negative = false
    if chars.first == "-" { negative = true; chars = chars.dropFirst() } else if chars.first == "+" { chars = chars.dropFirst() }
    let parts = chars.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard let wholeText = parts.first, !wholeText.isEmpty || parts.count == 2 else { return nil }
    let fractionText = parts.count == 2 ? parts[1] : ""
    guard wholeText.allSatisfy(\.isASCIIDigit), fractionText.allSatisfy(\.isASCIIDigit),
          !(wholeText.isEmpty && fractionText.isEmpty), fractionText.count <= decimals
    else { return nil }
    var value: Int128 = 0
    for digit in wholeText + fractionText + String(repeating: "0", count: decimals - fractionText.count) {
        value = value * 10 + Int128(digit.asciiValue! - 48)
        if value > Int128(Int64.max) { return nil }
    }
    return Int64(negative ? -value : value)
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

// MARK: - The four kinds of number

/// US dollars with 6 decimals (micro-dollars). Collateral, PnL, fees, fund balances, notional.
public struct Amount: FixedPointDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    public static var decimals: Int { 6 }
}

/// US dollars per unit of the base asset, 8 decimals.
public struct Price: FixedPointDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    public static var decimals: Int { 8 }
}

/// Signed size in units of the base asset, 8 decimals. Positive is long, negative is short.
public struct Quantity: FixedPointDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    public static var decimals: Int { 8 }
}

/// A dimensionless ratio with 9 decimals: margin fractions, shares, leverage, haircut percentages.
public struct Ratio: FixedPointDecimal {
    public var raw: Int64
    @inlinable public init(raw: Int64) { self.raw = raw }
    public static var decimals: Int { 9 }
    public static var one: Ratio { Ratio(raw: unit) }

    /// `numerator / denominator` as a ratio, rounded as asked. A zero denominator gives zero.
    @inlinable
    public static func of(_ numerator: Amount, _ denominator: Amount, rounding: RoundingRule) -> Ratio {
        guard denominator.raw != 0 else { return .zero }
        return Ratio(raw: narrow(divide(Int128(numerator.raw) * Int128(unit), by: Int128(denominator.raw), rounding: rounding)))
    }

    /// Basis points (1 bp = 0.0001).
    @inlinable public init(bps: Int64) { self.init(raw: bps * 100_000) }
}

// MARK: - Mixed arithmetic

/// `Quantity * Price` → `Amount`: 1e-8 * 1e-8 = 1e-16 USD, so divide by 1e10.
@usableFromInline let notionalDivisor: Int128 = 10_000_000_000

extension Quantity {
    /// Value of this signed size at `price`, rounded as asked.
    @inlinable @inline(__always)
    public func value(at price: Price, rounding: RoundingRule) -> Amount {
        Amount(raw: multiplyDividePowerOfTen(raw, price.raw, twos: 10, fives: 9_765_625, rounding: rounding))
    }

    /// What this position is worth at `price`: the notional a trade closing it there would have
    /// (both sides of a trade share `|size| * price` rounded down), with the position's sign. A
    /// position opened at `price` is therefore worth exactly its cost basis there.
    @inlinable @inline(__always)
    public func markValue(at price: Price) -> Amount {
        let magnitude = Amount(raw: multiplyDividePowerOfTen(raw < 0 ? -raw : raw, price.raw, twos: 10, fives: 9_765_625, rounding: .down))
        return raw < 0 ? -magnitude : magnitude
    }

    /// The size whose value at `price` is `amount` (both signs follow `amount`), rounded as asked.
    @inlinable
    public static func worth(_ amount: Amount, at price: Price, rounding: RoundingRule) -> Quantity {
        precondition(price.raw > 0, "price must be positive")
        return Quantity(raw: narrow(divide(Int128(amount.raw) * notionalDivisor, by: Int128(price.raw), rounding: rounding)))
    }

    /// This size scaled by `ratio`, rounded as asked.
    @inlinable
    public func scaled(by ratio: Ratio, rounding: RoundingRule) -> Quantity {
        Quantity(raw: multiplyDividePowerOfTen(raw, ratio.raw, twos: 9, fives: 1_953_125, rounding: rounding))
    }

    /// -1, 0 or 1.
    @inlinable public var sign: Int64 { raw.signum() }
}

extension Amount {
    /// This amount scaled by `ratio`, rounded as asked.
    @inlinable @inline(__always)
    public func scaled(by ratio: Ratio, rounding: RoundingRule) -> Amount {
        Amount(raw: multiplyDividePowerOfTen(raw, ratio.raw, twos: 9, fives: 1_953_125, rounding: rounding))
    }

    /// `self * numerator / denominator`, rounded as asked (denominator must not be zero).
    @inlinable
    public func scaled(_ numerator: Int64, over denominator: Int64, rounding: RoundingRule) -> Amount {
        Amount(raw: multiplyDivide(raw, numerator, by: denominator, rounding: rounding))
    }

    /// Smaller of two amounts.
    @inlinable public static func min(_ a: Amount, _ b: Amount) -> Amount { a < b ? a : b }
    /// Larger of two amounts.
    @inlinable public static func max(_ a: Amount, _ b: Amount) -> Amount { a < b ? b : a }
}

extension Price {
    /// This price scaled by `ratio`, rounded as asked.
    @inlinable
    public func scaled(by ratio: Ratio, rounding: RoundingRule) -> Price {
        Price(raw: multiplyDividePowerOfTen(raw, ratio.raw, twos: 9, fives: 1_953_125, rounding: rounding))
    }

    /// The price at which a signed size has the given value: `amount / quantity`.
    @inlinable
    public static func of(_ amount: Amount, per quantity: Quantity, rounding: RoundingRule) -> Price {
        precondition(quantity.raw != 0, "price of an empty position")
        return Price(raw: narrow(divide(Int128(amount.raw) * notionalDivisor, by: Int128(quantity.raw), rounding: rounding)))
    }
}
