import Testing
@testable import CrossclearEngine

@Suite("Auto-deleveraging policies")
struct ADLTests {
    // MARK: - Ranking keys

    /// Three short winners on one Binance-style venue after BTC falls from their entries to $90:
    ///
    /// | | entry | size | cash | PnL | equity | HL key | Binance key | BitMEX key |
    /// |---|---|---|---|---|---|---|---|---|
    /// | A | 100 | 1 | 1 | 10 | 11 | 0.9 * 90/11 = 7.364 | 10/1 * 0.36/11 = 0.3273 | 0.1 * 90/11 = 0.8182 |
    /// | B | 100 | 1 | 5 | 10 | 15 | 0.9 * 90/15 = 5.4 | 10/5 * 0.36/15 = 0.048 | 0.1 * 90/15 = 0.6 |
    /// | C | 120 | 1 | 1 | 30 | 31 | 0.75 * 90/31 = 2.177 | 30/1 * 0.36/31 = 0.3484 | 0.25 * 90/31 = 0.7258 |
    ///
    /// so the three documented keys rank them A B C, C A B and A C B.
    struct Winners {
        var world: World
        var accounts: [Int]

        init() {
            world = WorldBuilder([.cex]).open()
            accounts = []
            for (entry, cash) in [("100", "1"), ("100", "5"), ("120", "1")] {
                let account = world.addAccount(leg(collateral: cash, size: "0")).account
                world.trade(venue: 0, slot: 0, buyer: Venue.bookAccount, seller: account, size: qty("1"), price: px(entry))
                accounts.append(account)
            }
            world.step(px("90"))
        }

        func group(_ policy: ADLPolicy, size: String = "3", deficit: String = "0") -> ADLGroup {
            ADLGroup(policy: policy, policyVenue: 0, scope: [0], asset: 0, side: 1, size: qty(size).raw, deficit: usd(deficit).raw)
        }

        /// Names of the candidates in the order the policy cuts them.
        mutating func order(_ policy: ADLPolicy) -> [String] {
            let group = group(policy)
            let candidates = world.adlCandidates(group)
            return world.chooseFills(group, candidates).map { fill in
                ["A", "B", "C"][accounts.firstIndex(of: candidates[fill.candidate].account)!]
            }
        }
    }

    @Test("Hyperliquid key: (mark/entry) * (notional/account value)")
    func hyperliquidKey() {
        var winners = Winners()
        let candidates = winners.world.adlCandidates(winners.group(.hyperliquidQueue))
        #expect(candidates.count == 3)
        #expect(winners.world.adlKey(.hyperliquidQueue, candidates[0]) == 7_363_636_363)   // 0.9e9 * 90 / 11
        #expect(winners.order(.hyperliquidQueue) == ["A", "B", "C"])
    }

    @Test("Binance key: max(0, uPnL)/max(1, wallet) * MM/(wallet + uPnL)")
    func binanceKey() {
        var winners = Winners()
        let candidates = winners.world.adlCandidates(winners.group(.binanceQueue))
        #expect(winners.world.adlKey(.binanceQueue, candidates[0]) == 327_272_727)          // 10 * 0.36 / 11
        #expect(winners.order(.binanceQueue) == ["C", "A", "B"])
    }

    @Test("BitMEX key: PnL% * effective leverage")
    func bitmexKey() {
        var winners = Winners()
        let candidates = winners.world.adlCandidates(winners.group(.bitmexQueue))
        #expect(winners.world.adlKey(.bitmexQueue, candidates[0]) == 818_181_818)           // 0.1 * 90 / 11
        #expect(winners.order(.bitmexQueue) == ["A", "C", "B"])
    }

    @Test("queues rank losing positions after every winner and charge them nothing; PnL pro-rata skips them")
    func candidatesByPolicy() {
        var winners = Winners()
        // A fourth short, entered at 80: losing at 90.
        let loser = winners.world.addAccount(leg(collateral: "100", size: "0")).account
        winners.world.trade(venue: 0, slot: 0, buyer: Venue.bookAccount, seller: loser, size: qty("1"), price: px("80"))
        winners.world.step(px("90"))
        #expect(!winners.world.adlCandidates(winners.group(.pnlProRata)).contains { $0.account == loser })
        for policy in [ADLPolicy.hyperliquidQueue, .binanceQueue, .bitmexQueue, .hedgeAware, .dydxRotation, .contractProRata] {
            #expect(winners.world.adlCandidates(winners.group(policy)).contains { $0.account == loser }, "\(policy)")
        }
        for policy in [ADLPolicy.hyperliquidQueue, .binanceQueue, .bitmexQueue, .hedgeAware] {
            var group = winners.group(policy)
            let candidates = winners.world.adlCandidates(group)
            // Ask for everything: the loser comes last and pays no haircut.
            group.size = candidates.reduce(0) { $0 + abs($1.size) }
            group.deficit = usd("1000").raw
            let fills = winners.world.chooseFills(group, candidates)
            #expect(candidates[fills.last!.candidate].account == loser, "\(policy)")
            #expect(winners.world.haircutsFor(group, candidates, fills).last == 0, "\(policy)")
        }
    }

    @Test("hedge-aware key: net profit over the whole book in the asset, times net leverage; hedgers rank last")
    func hedgeAwareKey() {
        var world = WorldBuilder([.cex, .cex]).open()
        let hedger = world.add(.hedger, leg(venue: 0, collateral: "200", size: "10"), leg(venue: 1, collateral: "100", size: "-10"))
        let partial = world.add(.hedger, leg(venue: 0, collateral: "100", size: "5"), leg(venue: 1, collateral: "100", size: "-10"))
        let directional = world.add(leg(venue: 1, collateral: "100", size: "-10"))
        world.step(px("90"))
        let group = ADLGroup(policy: .hedgeAware, policyVenue: -1, scope: [0, 1], asset: 0, side: 1, size: qty("30").raw)
        let candidates = world.adlCandidates(group)
        func key(_ trader: Int) -> Int128 {
            let account = world.account(of: trader, leg: trader == directional ? 0 : 1).account
            return candidates.first { $0.venue == 1 && $0.account == account }!.key
        }
        #expect(key(hedger) == 0)                        // -100 + 100: nothing to take
        #expect(world.size(of: hedger, leg: 0) == qty("10"), "both legs of the hedge are open")
        #expect(key(partial) == 360_000_000)             // net PnL 50 / equity 250 * net notional 450 / 250
        #expect(key(directional) == 2_250_000_000)       // 100 / 200 * 900 / 200
        let fills = world.chooseFills(group, candidates)
        #expect(fills.map { candidates[$0.candidate].key } == [2_250_000_000, 360_000_000, 0])
    }

    // MARK: - Choosing fills

    static func candidates(sizes: [String], keys: [Int128] = [], pnl: [Int64] = []) -> [ADLCandidate] {
        sizes.enumerated().map { index, size in
            ADLCandidate(venue: 0, account: 10 + index, slot: 0, size: -qty(size).raw,
                         pnl: pnl.isEmpty ? 1 : pnl[index], key: keys.isEmpty ? 0 : keys[index])
        }
    }

    static func group(_ policy: ADLPolicy, size: String) -> ADLGroup {
        ADLGroup(policy: policy, policyVenue: 0, scope: [0], asset: 0, side: 1, size: qty(size).raw)
    }

    @Test("a queue cuts the highest key first, whole positions, until the size is matched")
    func queueFills() {
        var world = WorldBuilder([.cex]).open()
        let candidates = Self.candidates(sizes: ["3", "2", "4"], keys: [5, 9, 1])
        let fills = world.chooseFills(Self.group(.binanceQueue, size: "4"), candidates)
        #expect(fills.map(\.candidate) == [1, 0])
        #expect(fills.map(\.size) == [qty("2").raw, qty("2").raw])
        // Equal keys: larger PnL first, then venue and account order.
        let tied = Self.candidates(sizes: ["1", "1", "1"], keys: [7, 7, 7], pnl: [5, 9, 5])
        #expect(world.chooseFills(Self.group(.bitmexQueue, size: "3"), tied).map(\.candidate) == [1, 0, 2])
    }

    @Test("contract pro-rata cuts every holder in proportion to size, never more than they hold")
    func proRataFills() {
        var world = WorldBuilder([.cex]).open()
        let candidates = Self.candidates(sizes: ["3", "2", "5"])
        let fills = world.chooseFills(Self.group(.contractProRata, size: "5"), candidates)
        #expect(fills.map(\.candidate) == [0, 1, 2])
        #expect(fills.map(\.size) == [qty("1.5").raw, qty("1").raw, qty("2.5").raw])
        let all = world.chooseFills(Self.group(.contractProRata, size: "20"), candidates)
        #expect(all.map(\.size) == [qty("3").raw, qty("2").raw, qty("5").raw])
        // Leftover units go to the largest remainders and the sum is exact.
        let odd = world.chooseFills(Self.group(.contractProRata, size: "0.00000001"), candidates)
        #expect(odd.map(\.candidate) == [2] && odd.map(\.size) == [1])
    }

    @Test("dYdX rotation: consecutive holders from a seeded start, the same for the same seed")
    func rotationFills() {
        var world = WorldBuilder([.dydx]).open()
        var twin = WorldBuilder([.dydx]).open()
        let candidates = Self.candidates(sizes: ["1", "1", "1", "1", "1"])
        // A venue's own rotation draws from the venue's stream.
        var random = world.venues[0].random
        let start = Int(random.below(5))
        let fills = world.chooseFills(Self.group(.dydxRotation, size: "2.5"), candidates)
        #expect(fills.map(\.candidate) == [start, (start + 1) % 5, (start + 2) % 5])
        #expect(fills.map(\.size) == [qty("1").raw, qty("1").raw, qty("0.5").raw])
        #expect(world.venues[0].random == random, "the rotation draws exactly one number")
        let again = twin.chooseFills(Self.group(.dydxRotation, size: "2.5"), candidates)
        #expect(again.map(\.candidate) == fills.map(\.candidate) && again.map(\.size) == fills.map(\.size))
        // Different seeds give different starts somewhere among a few draws.
        let starts = (1...8).map { seed -> Int in
            var other = WorldBuilder([.dydx]).with { $0.seed = UInt64(seed) }.open()
            return other.chooseFills(Self.group(.dydxRotation, size: "1"), candidates)[0].candidate
        }
        #expect(Set(starts).count > 1)
    }

    // MARK: - Haircuts

    @Test("haircuts sum exactly to the deficit, in proportion to size cut, within each winner's profit and equity",
          arguments: ["10", "17.000001", "49.999999", "50", "100"])
    func haircutsSum(_ deficit: String) {
        var winners = Winners()
        let group = winners.group(.binanceQueue, size: "3", deficit: deficit)
        let candidates = winners.world.adlCandidates(group)
        let fills = winners.world.chooseFills(group, candidates)
        let haircuts = winners.world.haircutsFor(group, candidates, fills)
        // A winner pays at most the profit on the size cut (all of it here) and at most their equity.
        let caps = fills.map { fill -> Int64 in
            let candidate = candidates[fill.candidate]
            return min(winners.world.venues[0].equityNow(candidate.account).raw, candidate.pnl)
        }
        #expect(caps.reduce(0, +) == usd("50").raw)           // profits 10 + 10 + 30 (equities 11, 15, 31)
        #expect(haircuts.reduce(0, +) == min(group.deficit, caps.reduce(0, +)))
        for (haircut, cap) in zip(haircuts, caps) { #expect(haircut >= 0 && haircut <= cap) }
        if deficit == "10" {
            #expect(haircuts.sorted() == [usd("3.333333").raw, usd("3.333333").raw, usd("3.333334").raw])
        }
    }

    @Test("PnL pro-rata haircuts are proportional to profit and capped at it")
    func pnlProRataHaircuts() {
        var winners = Winners()
        let group = winners.group(.pnlProRata, size: "3", deficit: "25")
        let candidates = winners.world.adlCandidates(group)
        let fills = winners.world.chooseFills(group, candidates)
        let haircuts = winners.world.haircutsFor(group, candidates, fills)
        // Profits 10, 10, 30: a 25 deficit is 5, 5, 15.
        let byAccount = Dictionary(uniqueKeysWithValues: zip(fills.map { candidates[$0.candidate].account }, haircuts))
        #expect(winners.accounts.map { byAccount[$0] } == [usd("5").raw, usd("5").raw, usd("15").raw])
        let all = winners.world.haircutsFor(winners.group(.pnlProRata, size: "3", deficit: "80"), candidates, fills)
        #expect(all.reduce(0, +) == usd("50").raw)            // never more than the profits
    }

    // MARK: - Whole rounds

    @Test("Hyperliquid fills at the previous mark: the winner pays at least the move since, overshoot >= 0")
    func hyperliquidOvershoot() {
        var world = WorldBuilder([.hyperliquid], design: .siloedBackstop, depthPerBasisPoint: .zero).with {
            $0.venues[0].buffer = usd("1")
        }.open()
        let loser = world.add(leg(collateral: "100", size: "10"))
        let winner = world.add(leg(collateral: "1000", size: "-10"))
        world.step(px("80"))
        // Deficit 100; the winner's 10 units moved 20 since the previous mark: 200 taken, 100 too many.
        #expect(world.metrics.neededBudget == usd("100"))
        #expect(world.metrics.productionHaircut == usd("200"))
        #expect(world.metrics.overshoot == usd("100"))
        #expect(world.metrics.overshoot >= .zero)
        #expect(world.metrics.productionHaircut - world.metrics.overshoot == world.metrics.neededBudget)
        #expect(world.size(of: loser) == .zero && world.size(of: winner) == .zero)
        #expect(world.cash(of: winner) == usd("1000"))
        #expect(world.balance(.collateral(venue: 0, account: Venue.ownLayerAccount)) == usd("101"))  // overshoot to the vault
        #expect(world.metrics.maxHaircut == ratio("0.166666667"))                                   // 200 of 1,200, rounded up
        expectBalanced(world)
    }

    /// Two Binance-style venues with empty books and no buffers: a long on venue 0 goes bankrupt at $80
    /// and its 10 units must be deleveraged. On venue 1 a directional short of 4 and a hedger's short leg
    /// of 10 (long 10 on venue 0) are the winners.
    static func hedgerCrash(_ design: ClearingDesign) -> (world: World, hedger: Int, directional: Int) {
        var world = WorldBuilder([.cex, .cex], design: design, depthPerBasisPoint: .zero).open()
        world.add(leg(venue: 0, collateral: "100", size: "10"))
        let hedger = world.add(.hedger, leg(venue: 0, collateral: "200", size: "10"), leg(venue: 1, collateral: "200", size: "-10"))
        let directional = world.add(leg(venue: 1, collateral: "100", size: "-4"))
        world.apply(.startClearing)
        world.step(px("80"))
        return (world, hedger, directional)
    }

    @Test("hedge-aware ADL cuts the directional winner first and closes the hedger's other leg by the same size")
    func hedgeAwareClosesOtherLeg() {
        let (world, hedger, directional) = Self.hedgerCrash(.sharedFull)
        #expect(world.metrics.neededBudget == usd("100"))
        #expect(world.size(of: directional, leg: 0) == .zero)
        // 6 of the hedger's short leg were cut, and 6 of its long leg went to the pool.
        #expect(world.size(of: hedger, leg: 1) == qty("-4"))
        #expect(world.size(of: hedger, leg: 0) == qty("4"))
        #expect(world.adlHit[hedger] && !world.oneLegged[hedger])
        // Haircuts in proportion to size: 40 from the directional short, 60 from the hedger.
        #expect(world.cash(of: directional) == usd("140"))     // 100 + 80 profit - 40
        #expect(world.metrics.productionHaircut == usd("100") && world.metrics.overshoot == .zero)
        #expect(world.outcome().metrics.hedgersOneLegged == 0)
        expectBalanced(world)
    }

    @Test("the venue's own queue leaves the same hedger one-legged (the contrast)")
    func venueQueueBreaksHedge() {
        let (world, hedger, _) = Self.hedgerCrash(.sharedNetting)
        #expect(world.size(of: hedger, leg: 1) == .zero)       // the Binance key ranks the short leg first
        #expect(world.size(of: hedger, leg: 0) == qty("10"))
        #expect(world.oneLegged[hedger])
        #expect(world.outcome().metrics.hedgersOneLegged == 1)
        expectBalanced(world)
    }
    @Test("hedge-aware ADL does not leave a hedger with slightly unequal legs one-legged")
    func hedgeAwareUnequalLegs() {
        // As `hedgerCrash`, without the directional short, and with the hedger long 10.5 against a
        // short of 10 (legs of one hedge come out unequal whenever one venue's leverage cap clamps a
        // leg). ADL cuts the whole short leg and closes 10 of the long leg, leaving a naked 0.5 long:
        // by the engine's own definition (net > half the larger leg) the hedger is now one-legged,
        // although no leg was ever liquidated.
        var world = WorldBuilder([.cex, .cex], design: .sharedFull, depthPerBasisPoint: .zero).open()
        world.add(leg(venue: 0, collateral: "100", size: "10"))
        let hedger = world.add(.hedger, leg(venue: 0, collateral: "210", size: "10.5"), leg(venue: 1, collateral: "200", size: "-10"))
        world.apply(.startClearing)
        world.step(px("80"))
        let legs = world.legs(of: hedger)
        #expect(!legs.contains { world.venues[$0.venue].equity[$0.account] < world.venues[$0.venue].threshold[$0.account] },
                "no leg of the hedger was below its liquidation threshold")
        #expect(world.adlHit[hedger])
        #expect(world.size(of: hedger, leg: 1) == .zero)
        #expect(!world.oneLegged[hedger], "legs after ADL: \(world.size(of: hedger, leg: 0)) and \(world.size(of: hedger, leg: 1))")
        #expect(world.outcome().metrics.hedgersOneLegged == 0)
        expectBalanced(world)
    }
}
