import CrossclearEngine

/// Reference prices of every asset at any second of a scenario, from its price path. Pure integer
/// arithmetic: the same scenario gives the same prices everywhere.
public struct PriceModel: Sendable {
    private let assets: [AssetScenario]
    private let path: PricePath
    /// For a CSV series: points grouped per asset, sorted by time.
    private let series: [[PricePoint]]

    public init(scenario: Scenario) {
        assets = scenario.assets
        path = scenario.pricePath
        if case .series(let priceSeries) = scenario.pricePath {
            var grouped = Array(repeating: [PricePoint](), count: scenario.assets.count)
            for point in priceSeries.points { grouped[point.asset].append(point) }
            series = grouped
        } else {
            series = []
        }
    }

    /// Reference price of every asset at `timeSeconds`.
    public func prices(at timeSeconds: Int64) -> [Price] {
        assets.indices.map { price(asset: $0, at: timeSeconds) }
    }

    /// Reference price of one asset at `timeSeconds`.
    public func price(asset: Int, at timeSeconds: Int64) -> Price {
        switch path {
        case .crash(let crash):
            let fall = drawdown(crash, asset: assets[asset], at: timeSeconds)
            return Price(raw: max(1, assets[asset].startPrice.scaled(by: Ratio(raw: Ratio.unit - fall.raw), rounding: .down).raw))
        case .series:
            // Hold the last point at or before the time (every asset has a point at time zero).
            let points = series[asset]
            var chosen = points[0].price
            for point in points {
                if point.timeSeconds > timeSeconds { break }
                chosen = point.price
            }
            return chosen
        }
    }

    /// The fall from the start price at `time`: linear to `depth * beta` over the fall, a triangular
    /// wick to `wick` centred on the bottom, then a linear recovery of `recovery` of the fall.
    private func drawdown(_ crash: CrashPath, asset: AssetScenario, at time: Int64) -> Ratio {
        let full = min(Ratio(raw: 990_000_000), crash.depth.scaled(by: asset.beta))
        let bottom = crash.startSeconds + crash.fallSeconds
        var fall: Int64
        if time <= crash.startSeconds {
            fall = 0
        } else if time < bottom {
            fall = scale(full.raw, time - crash.startSeconds, crash.fallSeconds)
        } else if crash.recoverySeconds > 0 && time < bottom + crash.recoverySeconds {
            fall = full.raw - scale(full.scaled(by: crash.recovery).raw, time - bottom, crash.recoverySeconds)
        } else {
            fall = full.raw - (time >= bottom + crash.recoverySeconds ? full.scaled(by: crash.recovery).raw : 0)
        }
        let halfWick = crash.wickSeconds / 2
        if asset.wick.isPositive && halfWick > 0 && abs(time - bottom) < halfWick {
            fall = max(fall, scale(asset.wick.raw, halfWick - abs(time - bottom), halfWick))
        }
        return Ratio(raw: fall)
    }

    private func scale(_ value: Int64, _ numerator: Int64, _ denominator: Int64) -> Int64 {
        narrow(divide(Int128(value) * Int128(numerator), by: Int128(denominator), rounding: .down))
    }
}

extension Ratio {
    /// This ratio times another, rounded down.
    func scaled(by other: Ratio) -> Ratio {
        Ratio(raw: narrow(divide(Int128(raw) * Int128(other.raw), by: Int128(Ratio.unit), rounding: .down)))
    }
}
