// A small dependency-free line-chart renderer, and the display-only number formatting it shares with
// the console table and the HTML report. Double appears here only for drawing and human display;
// exact values are written by the JSON and CSV writers.

import CrossclearEngine
import Foundation

/// A line chart of one or more series over a shared x axis, rendered as standalone SVG.
struct LineChart: Sendable {
    /// One line of the chart.
    struct Series: Sendable {
        var name: String
        /// A CSS colour, e.g. "#1f77b4".
        var color: String
        var points: [(x: Double, y: Double)]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Whether the y axis always reaches zero (for amounts that grow from or fall toward nothing).
    var yIncludesZero = false

    private enum Layout {
        static let width = 760.0
        static let height = 340.0
        static let plotLeft = 72.0
        static let plotRight = 590.0
        static let plotTop = 40.0
        static let plotBottom = 285.0
        static let legendLeft = 610.0
    }

    /// The chart as an `<svg>` element (no XML prolog, so it can also be inlined in HTML).
    /// Non-finite points are skipped; empty and constant series still get a valid, finite axis.
    func svg() -> String {
        let lines = series.map { $0.points.filter { $0.x.isFinite && $0.y.isFinite } }
        let points = lines.flatMap { $0 }
        let xScale = NiceScale(covering: points.map(\.x), includingZero: false)
        let yScale = NiceScale(covering: points.map(\.y), includingZero: yIncludesZero)
        func px(_ x: Double) -> String { coordinate(Layout.plotLeft + xScale.fraction(x) * (Layout.plotRight - Layout.plotLeft)) }
        func py(_ y: Double) -> String { coordinate(Layout.plotBottom - yScale.fraction(y) * (Layout.plotBottom - Layout.plotTop)) }
        let left = coordinate(Layout.plotLeft), right = coordinate(Layout.plotRight)
        let top = coordinate(Layout.plotTop), bottom = coordinate(Layout.plotBottom)
        let centerX = coordinate((Layout.plotLeft + Layout.plotRight) / 2), centerY = coordinate((Layout.plotTop + Layout.plotBottom) / 2)
        let width = coordinate(Layout.width), height = coordinate(Layout.height)

        // Frame and title.
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" "
            + "role=\"img\" aria-label=\"\(Markup.escape(title))\">\n"
            + "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
            + "<text x=\"\(coordinate(Layout.width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
            + "font-weight=\"bold\">\(Markup.escape(title))</text>\n"

        // Grid, ticks and axes.
        for tick in yScale.ticks {
            let y = py(tick)
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(right)\" y2=\"\(y)\" stroke=\"#e5e5e5\"/>\n"
                + "<text x=\"\(coordinate(Layout.plotLeft - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\" "
                + "fill=\"#444444\">\(Markup.escape(yScale.label(tick)))</text>\n"
        }
        for tick in xScale.ticks {
            let x = px(tick)
            svg += "<line x1=\"\(x)\" y1=\"\(bottom)\" x2=\"\(x)\" y2=\"\(coordinate(Layout.plotBottom + 5))\" stroke=\"#444444\"/>\n"
                + "<text x=\"\(x)\" y=\"\(coordinate(Layout.plotBottom + 19))\" text-anchor=\"middle\" "
                + "fill=\"#444444\">\(Markup.escape(xScale.label(tick)))</text>\n"
        }
        svg += "<polyline points=\"\(left),\(top) \(left),\(bottom) \(right),\(bottom)\" fill=\"none\" stroke=\"#444444\"/>\n"
            + "<text x=\"\(centerX)\" y=\"\(coordinate(Layout.height - 14))\" text-anchor=\"middle\">\(Markup.escape(xLabel))</text>\n"
            + "<text x=\"16\" y=\"\(centerY)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(centerY))\">"
            + "\(Markup.escape(yLabel))</text>\n"
        if points.isEmpty {
            svg += "<text x=\"\(centerX)\" y=\"\(centerY)\" text-anchor=\"middle\" fill=\"#888888\">no data</text>\n"
        }

        // Lines (a single point as a dot) and the legend.
        for (index, (line, drawable)) in zip(series, lines).enumerated() {
            let color = Markup.escape(line.color)
            if drawable.count == 1, let only = drawable.first {
                svg += "<circle cx=\"\(px(only.x))\" cy=\"\(py(only.y))\" r=\"3\" fill=\"\(color)\"/>\n"
            } else if drawable.count > 1 {
                svg += "<polyline points=\"\(drawable.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " "))\" fill=\"none\" "
                    + "stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n"
            }
            let legendY = coordinate(Layout.plotTop + 8 + Double(index) * 20)
            svg += "<line x1=\"\(coordinate(Layout.legendLeft))\" y1=\"\(legendY)\" x2=\"\(coordinate(Layout.legendLeft + 22))\" "
                + "y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
                + "<text x=\"\(coordinate(Layout.legendLeft + 28))\" y=\"\(legendY)\" dominant-baseline=\"middle\">"
                + "\(Markup.escape(line.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// An SVG coordinate with one decimal.
    private func coordinate(_ value: Double) -> String {
        DisplayNumber.fixed(value, digits: 1)
    }
}

/// An axis range rounded out to "nice" tick steps (1, 2, 2.5 or 5 times a power of ten), with 4 to 6 ticks.
struct NiceScale: Sendable {
    let ticks: [Double]
    let step: Double

    /// A scale covering every value; with no values it covers 0...1, and a constant value is padded
    /// on both sides, so the range is never empty.
    init(covering values: [Double], includingZero: Bool) {
        var lower = values.min() ?? 0
        var upper = values.max() ?? 1
        if includingZero {
            lower = Swift.min(lower, 0)
            upper = Swift.max(upper, 0)
        }
        if lower == upper {
            let padding = lower == 0 ? 1 : abs(lower) * 0.05
            lower = lower == 0 ? 0 : lower - padding
            upper += padding
        }
        let magnitude = pow(10, (log10((upper - lower) / 5)).rounded(.down))
        let candidates = [1.0, 2, 2.5, 5, 10, 20].map { $0 * magnitude }
        let step = candidates.first { (upper / $0).rounded(.up) - (lower / $0).rounded(.down) <= 5 } ?? 20 * magnitude
        let first = (lower / step).rounded(.down)
        let last = (upper / step).rounded(.up)
        self.step = step
        self.ticks = stride(from: first, through: last, by: 1).map { $0 * step }
    }

    var lower: Double { ticks.first ?? 0 }
    var upper: Double { ticks.last ?? 1 }

    /// Where `value` lies between the lowest and the highest tick, 0 to 1.
    func fraction(_ value: Double) -> Double {
        let span = upper - lower
        return span > 0 ? (value - lower) / span : 0.5
    }

    /// A tick's label: one k/M/B suffix for the whole axis and just enough decimals for the step
    /// ("0" for zero).
    func label(_ tick: Double) -> String {
        guard tick != 0 else { return "0" }
        let scale = DisplayNumber.scale(for: Swift.max(abs(lower), abs(upper)))
        let scaledStep = step / scale.divisor
        let digits = (0...6).first { digits in
            let shifted = scaledStep * pow(10, Double(digits))
            return abs(shifted - shifted.rounded()) < 1e-6
        } ?? 6
        return DisplayNumber.fixed(tick / scale.divisor, digits: digits) + scale.suffix
    }
}

// MARK: - Display numbers

/// Human-readable, locale-independent number text for display only (charts, console, HTML).
enum DisplayNumber {
    private static let scales: [(divisor: Double, suffix: String)] = [(1, ""), (1e3, "k"), (1e6, "M"), (1e9, "B")]

    /// The largest k/M/B scale not above `magnitude`.
    static func scale(for magnitude: Double) -> (divisor: Double, suffix: String) {
        scales.last { magnitude >= $0.divisor } ?? scales[0]
    }

    /// Money such as "$12.3M", "$950.2k", "$12" or "-$1.5B".
    static func money(_ amount: Amount) -> String {
        let value = amount.displayValue
        let magnitude = abs(value)
        var index = scales.lastIndex { magnitude >= $0.divisor } ?? 0
        var text = fixed(magnitude / scales[index].divisor, digits: index == 0 ? 0 : 1)
        // 999,960 would read "1000.0k": move up to the next scale instead.
        if index < scales.count - 1, text.hasPrefix("1000") {
            index += 1
            text = fixed(magnitude / scales[index].divisor, digits: 1)
        }
        let sign = value < 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "-" : ""
        return sign + "$" + text + scales[index].suffix
    }

    /// `value` with exactly `digits` decimals, rounded half away from zero; never "nan", "inf" or "-0".
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var unit: Int64 = 1
        for _ in 0..<digits { unit *= 10 }
        let limit = 9e18
        let scaled = Swift.min(Swift.max((value * Double(unit)).rounded(), -limit), limit)
        let count = Int64(scaled)
        let magnitude = count.magnitude
        let whole = magnitude / UInt64(unit)
        let fraction = String(magnitude % UInt64(unit))
        let sign = count < 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(whole)" }
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}

extension FixedPointDecimal {
    /// The value as a Double, for drawing and human display only.
    var displayValue: Double { Double(raw) / Double(Self.unit) }
}

/// Escaping for text placed in HTML or SVG markup.
enum Markup {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
