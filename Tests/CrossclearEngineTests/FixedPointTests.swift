import PropertyBased
import Testing
@testable import CrossclearEngine

@Suite("Fixed-point numbers")
struct FixedPointTests {
    // MARK: - divide

    struct DivideCase: Sendable, CustomTestStringConvertible {
        var numerator: Int128
        var denominator: Int128
        var down: Int128
        var up: Int128
        var testDescription: String { "\(numerator)/\(denominator)" }
    }

    @Test("divide rounds down to the floor and up to the ceiling, for every sign combination", arguments: [
        DivideCase(numerator: 7, denominator: 2, down: 3, up: 4),
        DivideCase(numerator: -7, denominator: 2, down: -4, up: -3),
        DivideCase(numerator: 7, denominator: -2, down: -4, up: -3),
        DivideCase(numerator: -7, denominator: -2, down: 3, up: 4),
        DivideCase(numerator: 6, denominator: 3, down: 2, up: 2),
        DivideCase(numerator: -6, denominator: 3, down: -2, up: -2),
        DivideCase(numerator: 6, denominator: -3, down: -2, up: -2),
        DivideCase(numerator: 0, denominator: -5, down: 0, up: 0),
        DivideCase(numerator: 1, denominator: 3, down: 0, up: 1),
        DivideCase(numerator: -1, denominator: 3, down: -1, up: 0),
        // Beyond 64 bits (the slow path).
        DivideCase(numerator: Int128(Int64.max) * 10 + 1, denominator: 10, down: Int128(Int64.max), up: Int128(Int64.max) + 1),
        DivideCase(numerator: -(Int128(Int64.max) * 10 + 1), denominator: 10, down: -Int128(Int64.max) - 1, up: -Int128(Int64.max)),
        DivideCase(numerator: Int128(Int64.min), denominator: -1, down: -Int128(Int64.min), up: -Int128(Int64.min)),
        DivideCase(numerator: Int128(Int64.min), denominator: 2, down: Int128(Int64.min) / 2, up: Int128(Int64.min) / 2),
    ])
    func divideRounding(_ c: DivideCase) {
        #expect(divide(c.numerator, by: c.denominator, rounding: .down) == c.down)
        #expect(divide(c.numerator, by: c.denominator, rounding: .up) == c.up)
    }

    @Test("divide: floor <= exact quotient < floor + 1, and up is down + (remainder != 0)")
    func divideProperty() async {
        await propertyCheck(count: 300, input: Gen.int64(in: -1_000_000_000_000...1_000_000_000_000),
                            Gen.int64(in: -1_000_000...1_000_000)) { numerator, rawDenominator in
            let denominator = rawDenominator == 0 ? 1 : rawDenominator
            let down = divide(Int128(numerator), by: Int128(denominator), rounding: .down)
            let up = divide(Int128(numerator), by: Int128(denominator), rounding: .up)
            let exact = Int128(numerator) % Int128(denominator) == 0
            #expect(up == down + (exact ? 0 : 1))
            // floor: down * d <= n < (down + 1) * d, in the denominator's orientation.
            if denominator > 0 {
                #expect(down * Int128(denominator) <= Int128(numerator))
                #expect(Int128(numerator) < (down + 1) * Int128(denominator))
            } else {
                #expect(down * Int128(denominator) >= Int128(numerator))
                #expect(Int128(numerator) > (down + 1) * Int128(denominator))
            }
        }
    }

    // MARK: - Text

    @Test("parse and format round-trip exactly, negatives included", arguments: [
        ("0", 0), ("1", 1_000_000), ("-12.5", -12_500_000), ("-0.25", -250_000), ("0.000001", 1), ("-0.000001", -1),
        ("1000000.5", 1_000_000_500_000), ("9223372036854.775807", Int64.max), ("-9223372036854.775807", -Int64.max),
    ] as [(String, Int64)])
    func amountText(_ text: String, _ raw: Int64) {
        #expect(Amount(parsing: text)?.raw == raw)
        #expect(Amount(raw: raw).description == text)
        #expect(Amount(parsing: Amount(raw: raw).description) == Amount(raw: raw))
    }

    @Test("parsing accepts signs, underscores and bare fractions")
    func parsingForms() {
        #expect(Amount(parsing: "1_000.5") == Amount(raw: 1_000_500_000))
        #expect(Amount(parsing: "+2") == Amount(whole: 2))
        #expect(Amount(parsing: ".5") == Amount(raw: 500_000))
        #expect(Amount(parsing: "3.") == Amount(whole: 3))
        #expect(Price(parsing: "0.00000001") == Price(raw: 1))
        #expect(Ratio(parsing: "0.000000001") == Ratio(raw: 1))
        #expect(Quantity(parsing: "-0.5")?.raw == -50_000_000)
    }

    @Test("too many decimals, junk and out-of-range values are rejected", arguments: [
        "0.0000001", "1.1234567", "", ".", "-", "abc", "1.2.3", "1e6", "--1", " 1", "1,5", "9223372036854.775808", "99999999999999",
    ])
    func amountRejects(_ text: String) {
        #expect(Amount(parsing: text) == nil)
    }

    @Test("each type rejects one decimal more than it holds")
    func decimalsPerType() {
        #expect(Price(parsing: "1.12345678") != nil)
        #expect(Price(parsing: "1.123456789") == nil)
        #expect(Quantity(parsing: "-1.12345678") != nil)
        #expect(Quantity(parsing: "-1.123456789") == nil)
        #expect(Ratio(parsing: "0.123456789") != nil)
        #expect(Ratio(parsing: "0.1234567891") == nil)
    }

    @Test("negative values round-trip through text (property)")
    func roundTripProperty() async {
        await propertyCheck(count: 300, input: Gen.int64(in: -Int64.max...Int64.max)) { raw in
            #expect(Amount(parsing: Amount(raw: raw).description) == Amount(raw: raw))
            #expect(Price(parsing: Price(raw: raw).description) == Price(raw: raw))
            #expect(Ratio(parsing: Ratio(raw: raw).description) == Ratio(raw: raw))
        }
    }

    @Test("formatted(fractionDigits:) pads or truncates toward zero")
    func formattedDigits() {
        #expect(Amount(parsing: "-1.239")!.formatted(fractionDigits: 2) == "-1.23")
        #expect(Amount(parsing: "1.5")!.formatted(fractionDigits: 3) == "1.500")
        #expect(Amount(whole: 7).formatted(fractionDigits: 0) == "7")
        #expect(Price(parsing: "0.00000001")!.formatted(fractionDigits: 2) == "0.00")
    }

    // MARK: - Mixed arithmetic

    @Test("Quantity.value(at:) rounds the 1e-16 product as asked, for both signs")
    func valueAt() {
        let price = px("100.00000001")
        // 1.5 * 100.00000001 = 150.000000015
        #expect(qty("1.5").value(at: price, rounding: .down) == usd("150"))
        #expect(qty("1.5").value(at: price, rounding: .up) == usd("150.000001"))
        #expect(qty("-1.5").value(at: price, rounding: .down) == usd("-150.000001"))
        #expect(qty("-1.5").value(at: price, rounding: .up) == usd("-150"))
        // Exact products are not rounded.
        #expect(qty("-2").value(at: px("99.5"), rounding: .down) == usd("-199"))
        #expect(qty("-2").value(at: px("99.5"), rounding: .up) == usd("-199"))
        // The smallest size at the smallest price is worth 1e-16 USD.
        #expect(Quantity(raw: 1).value(at: Price(raw: 1), rounding: .down) == .zero)
        #expect(Quantity(raw: 1).value(at: Price(raw: 1), rounding: .up) == Amount(raw: 1))
        #expect(Quantity(raw: -1).value(at: Price(raw: 1), rounding: .down) == Amount(raw: -1))
        // Large sizes go through 128 bits.
        #expect(qty("1000000").value(at: px("1000000"), rounding: .down) == usd("1000000000000"))
    }

    @Test("Quantity.value(at:) agrees with the Int128 reference (property)")
    func valueAtProperty() async {
        await propertyCheck(count: 300, input: Gen.int64(in: -1_000_000_000_000_000...1_000_000_000_000_000),
                            Gen.int64(in: 1...10_000_000_000_000)) { size, price in
            let product = Int128(size) * Int128(price)
            for rule in [RoundingRule.down, .up] {
                #expect(Int128(Quantity(raw: size).value(at: Price(raw: price), rounding: rule).raw)
                        == divide(product, by: 10_000_000_000, rounding: rule))
            }
        }
    }

    @Test("Quantity.worth is the size whose value is the amount, rounded as asked")
    func worth() {
        #expect(Quantity.worth(usd("100"), at: px("3"), rounding: .down) == qty("33.33333333"))
        #expect(Quantity.worth(usd("100"), at: px("3"), rounding: .up) == qty("33.33333334"))
        #expect(Quantity.worth(usd("-100"), at: px("3"), rounding: .down) == qty("-33.33333334"))
        #expect(Quantity.worth(usd("-100"), at: px("3"), rounding: .up) == qty("-33.33333333"))
        #expect(Quantity.worth(usd("250"), at: px("100"), rounding: .up) == qty("2.5"))
        // Round-trip: value of worth(down) never exceeds the amount; worth(up) never falls short.
        let amount = usd("12345.678901")
        let price = px("987.65432101")
        #expect(Quantity.worth(amount, at: price, rounding: .down).value(at: price, rounding: .down) <= amount)
        #expect(Quantity.worth(amount, at: price, rounding: .up).value(at: price, rounding: .up) >= amount)
    }

    @Test("Price.of divides an amount by a signed size")
    func priceOf() {
        #expect(Price.of(usd("100"), per: qty("3"), rounding: .down) == px("33.33333333"))
        #expect(Price.of(usd("100"), per: qty("3"), rounding: .up) == px("33.33333334"))
        #expect(Price.of(usd("-100"), per: qty("-3"), rounding: .down) == px("33.33333333"))
        #expect(Price.of(usd("100"), per: qty("-3"), rounding: .down) == px("-33.33333334"))
        #expect(Price.of(usd("100"), per: qty("-3"), rounding: .up) == px("-33.33333333"))
        #expect(Price.of(usd("1000"), per: qty("10"), rounding: .down) == px("100"))
    }

    @Test("Ratio.of rounds as asked and gives zero for a zero denominator")
    func ratioOf() {
        #expect(Ratio.of(usd("1"), usd("3"), rounding: .down) == ratio("0.333333333"))
        #expect(Ratio.of(usd("1"), usd("3"), rounding: .up) == ratio("0.333333334"))
        #expect(Ratio.of(usd("-1"), usd("3"), rounding: .down) == ratio("-0.333333334"))
        #expect(Ratio.of(usd("-1"), usd("3"), rounding: .up) == ratio("-0.333333333"))
        #expect(Ratio.of(usd("5"), usd("4"), rounding: .down) == ratio("1.25"))
        #expect(Ratio.of(usd("5"), .zero, rounding: .up) == .zero)
        #expect(Ratio(bps: 125) == ratio("0.0125"))
    }

    @Test("scaling by a ratio and by a fraction rounds as asked")
    func scaling() {
        #expect(usd("10").scaled(by: ratio("0.333333333"), rounding: .down) == usd("3.333333"))
        #expect(usd("10").scaled(by: ratio("0.333333333"), rounding: .up) == usd("3.333334"))
        #expect(usd("-10").scaled(1, over: 3, rounding: .down) == usd("-3.333334"))
        #expect(usd("-10").scaled(1, over: 3, rounding: .up) == usd("-3.333333"))
        #expect(qty("1").scaled(by: ratio("0.2"), rounding: .up) == qty("0.2"))
        #expect(px("100").scaled(by: ratio("0.99975"), rounding: .down) == px("99.975"))
    }
}
