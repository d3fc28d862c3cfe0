// The world's whole mutable state as bytes, and back: what a node saves as a snapshot so that a
// restart replays only the events after it. The configuration is not encoded (the node rebuilds
// it from its cluster file): a world decodes into `World(config:)` of the configuration it was
// encoded under, and `encodeState` followed by `init(config:decoding:)` gives a world equal to the
// original in every stored property, so every later event has exactly the same effect.

extension World {
    /// Version of the encoding; a reader refuses any other.
    public static let stateFormat: UInt32 = 1

    /// Appends the world's mutable state (everything but `config`) to `writer`.
    public func encodeState(into writer: inout StateWriter) {
        writer.reserveCapacity(venues.reduce(4_096 + samples.count * StepSample.encodedSize + traderCount * 64) { total, venue in
            total + venue.accountCount * 56 + venue.holders.reduce(0) { $0 + $1.count } * 40
        })
        writer.write(World.stateFormat)
        writer.write(Int64(venues.count))
        for venue in venues { venue.encodeState(into: &writer) }
        writer.write(timeSeconds)
        writer.write(random.state)
        writer.write(external)
        writer.write(poolCash)
        writer.write(adlSettlement)
        writer.write(lossAllocation)
        writer.write(treasury)
        writer.write(paidToPool)
        writer.write(poolContributions.map(\.raw))
        writer.write(awaitingBackstop.flatMap { [Int64($0.venue), Int64($0.account)] })

        writer.write(traderKind.map(\.rawValue))
        writer.write(legStart)
        writer.write(legVenue)
        writer.write(legAccount)
        writer.write(adlHit)
        writer.write(oneLegged)
        writer.write(touchedHedgers)
        writer.write(multiVenueTraders)
        writer.write(hedgeSmallLeg)
        writer.write(hedgeLargeLeg)

        metrics.encode(into: &writer)
        writer.write(Int64(samples.count))
        for sample in samples { sample.encode(into: &writer) }
        writer.write(adlRounds)
        writer.write(ptsrSum)
        writer.write(pmrSum)
        writer.write(poolFeesReceived)
        writer.write(poolAssessmentsReceived)
        writer.write(Int64(protectedViolations.count))
        for violation in protectedViolations { writer.write(violation) }
    }

    /// A world of `config` in the state `reader` holds (written by ``encodeState(into:)`` under the
    /// same configuration).
    ///
    /// - Throws: ``StateDecodingError`` when the bytes are damaged or were written for another
    ///   configuration (other venues, markets or assets); nothing is half-decoded then.
    public init(config: EngineConfig, decoding reader: inout StateReader) throws(StateDecodingError) {
        self.init(config: config)
        let format: UInt32 = try reader.read()
        guard format == World.stateFormat else { throw .mismatch("format \(format), expected \(World.stateFormat)") }
        let venueCount: Int64 = try reader.read()
        guard venueCount == Int64(venues.count) else { throw .mismatch("\(venueCount) venues, the configuration has \(venues.count)") }
        for index in venues.indices { try venues[index].decodeState(from: &reader) }
        timeSeconds = try reader.read()
        random = SeededRandom(seed: try reader.read())
        external = try reader.read()
        poolCash = try reader.read()
        adlSettlement = try reader.read()
        lossAllocation = try reader.readArray()
        treasury = try reader.readArray()
        paidToPool = try reader.read()
        poolContributions = try reader.readArray(of: Int64.self).map(Amount.init(raw:))
        let waiting: [Int64] = try reader.readArray()
        guard lossAllocation.count == venues.count, treasury.count == venues.count, poolContributions.count == venues.count,
              waiting.count % 2 == 0
        else { throw .mismatch("per-venue ledger accounts do not have one entry per venue") }
        awaitingBackstop = try stride(from: 0, to: waiting.count, by: 2).map { index throws(StateDecodingError) in
            let account = VenueAccount(venue: Int(waiting[index]), account: Int(waiting[index + 1]))
            guard venues.indices.contains(account.venue), (0..<venues[account.venue].accountCount).contains(account.account) else {
                throw .invalid("an account waiting for the pool does not exist", at: reader.offset)
            }
            return account
        }

        let kinds: [UInt8] = try reader.readArray()
        traderKind = try kinds.map { raw throws(StateDecodingError) in
            guard let kind = TraderKind(rawValue: raw) else { throw .invalid("trader kind \(raw)", at: reader.offset) }
            return kind
        }
        legStart = try reader.readArray()
        legVenue = try reader.readArray()
        legAccount = try reader.readArray()
        adlHit = try reader.readBools()
        oneLegged = try reader.readBools()
        touchedHedgers = try reader.readArray()
        multiVenueTraders = try reader.readArray()
        hedgeSmallLeg = try reader.readArray()
        hedgeLargeLeg = try reader.readArray()
        try checkTraders(at: reader.offset)

        metrics = try OutcomeMetrics(decoding: &reader)
        let sampleCount: Int64 = try reader.read()
        guard sampleCount >= 0, sampleCount <= Int64(reader.remaining / StepSample.encodedSize) else {
            throw .invalid("\(sampleCount) samples", at: reader.offset)
        }
        samples = try (0..<Int(sampleCount)).map { _ throws(StateDecodingError) in try StepSample(decoding: &reader) }
        adlRounds = try reader.read()
        ptsrSum = try reader.read()
        pmrSum = try reader.read()
        poolFeesReceived = try reader.read()
        poolAssessmentsReceived = try reader.read()
        let violationCount: Int64 = try reader.read()
        guard violationCount >= 0, violationCount <= Int64(reader.remaining / 8) else {
            throw .invalid("\(violationCount) protected-layer violations", at: reader.offset)
        }
        protectedViolations = try (0..<Int(violationCount)).map { _ throws(StateDecodingError) in try reader.readString() }
    }

    /// Checks that the traders' columns agree with each other and with the venues' accounts, so that
    /// no later event indexes out of range.
    private func checkTraders(at offset: Int) throws(StateDecodingError) {
        let traders = traderKind.count
        guard legStart.count == traders + 1, legStart.first == 0, legStart.last.map(Int.init) == legVenue.count,
              legAccount.count == legVenue.count, adlHit.count == traders, oneLegged.count == traders,
              hedgeSmallLeg.count == traders, hedgeLargeLeg.count == traders,
              zip(legStart, legStart.dropFirst()).allSatisfy({ $0 <= $1 })
        else { throw .invalid("the traders' columns do not agree", at: offset) }
        for (venue, account) in zip(legVenue, legAccount) {
            guard venues.indices.contains(Int(venue)), (0..<venues[Int(venue)].accountCount).contains(Int(account)) else {
                throw .invalid("a leg names account \(account) of venue \(venue), which does not exist", at: offset)
            }
        }
        guard touchedHedgers.allSatisfy({ (0..<traders).contains(Int($0)) }), multiVenueTraders.allSatisfy({ (0..<traders).contains(Int($0)) }),
              venues.allSatisfy({ $0.owner.allSatisfy { $0 >= AccountRole.adlClearing.rawValue && $0 < Int32(traders) } })
        else { throw .invalid("a trader number is out of range", at: offset) }
    }
}

extension Venue {
    /// Appends the venue's mutable state: markets, random stream and accounts.
    func encodeState(into writer: inout StateWriter) {
        writer.write(Int64(markets.count))
        for market in markets {
            writer.write(market.oracle.raw)
            writer.write(market.mark.raw)
            writer.write(market.previousMark.raw)
            writer.write(market.impact.raw)
            writer.write(market.depthFactor.raw)
            writer.write(market.oracleHistory.map(\.raw))
        }
        writer.write(random.state)
        writer.write(owner)
        writer.write(collateral)
        // Most accounts hold a position in few of the venue's markets, were never liquidated and
        // have no credit: those columns are written sparse.
        for slot in markets.indices {
            writer.writeSparse(quantity[slot], base: 0)
            writer.writeSparse(basis[slot], base: 0)
            writer.write(holders[slot])
            writer.writeSparse(isHolder[slot])
        }
        writer.write(settlement)
        writer.write(longInterest)
        writer.writeSparse(lastLiquidation, base: Venue.neverLiquidated)
        writer.writeSparse(credit, base: 0)
        writer.write(equity)
        writer.write(maintenance)
        writer.write(threshold)
    }

    /// Replaces the venue's mutable state with what ``encodeState(into:)`` wrote.
    mutating func decodeState(from reader: inout StateReader) throws(StateDecodingError) {
        let marketCount: Int64 = try reader.read()
        guard marketCount == Int64(markets.count) else {
            throw .mismatch("venue \(config.name) has \(marketCount) markets, the configuration \(markets.count)")
        }
        for slot in markets.indices {
            markets[slot].oracle = Price(raw: try reader.read())
            markets[slot].mark = Price(raw: try reader.read())
            markets[slot].previousMark = Price(raw: try reader.read())
            markets[slot].impact = Ratio(raw: try reader.read())
            markets[slot].depthFactor = Ratio(raw: try reader.read())
            markets[slot].oracleHistory = try reader.readArray(of: Int64.self).map(Price.init(raw:))
        }
        random = SeededRandom(seed: try reader.read())
        owner = try reader.readArray()
        collateral = try reader.readArray()
        let accounts = owner.count
        for slot in markets.indices {
            quantity[slot] = try reader.readSparse(count: accounts)
            basis[slot] = try reader.readSparse(count: accounts)
            holders[slot] = try reader.readArray()
            isHolder[slot] = try reader.readSparseBools(count: accounts)
            guard holders[slot].allSatisfy({ (0..<accounts).contains(Int($0)) }) else {
                throw .invalid("venue \(config.name): a holder of market slot \(slot) does not exist", at: reader.offset)
            }
        }
        settlement = try reader.readArray()
        longInterest = try reader.readArray()
        lastLiquidation = try reader.readSparse(count: accounts)
        credit = try reader.readSparse(count: accounts)
        equity = try reader.readArray()
        maintenance = try reader.readArray()
        threshold = try reader.readArray()
        guard accounts >= Venue.ownAccounts, collateral.count == accounts, settlement.count == markets.count,
              longInterest.count == markets.count, equity.count == accounts, maintenance.count == accounts, threshold.count == accounts
        else { throw .invalid("venue \(config.name): its columns do not agree", at: reader.offset) }
    }
}

extension OutcomeMetrics {
    private static var counts: [WritableKeyPath<OutcomeMetrics, Int>] { [
        \.liquidationCount, \.ownLayerTakeovers, \.poolTakeovers, \.collateralMoves, \.adlCount, \.adlTraders,
        \.hedgers, \.hedgersOneLegged,
    ] }
    private static var amounts: [WritableKeyPath<OutcomeMetrics, Amount>] { [
        \.liquidationNotional, \.ownLayerTakeoverNotional, \.poolTakeoverNotional, \.liquidationFees, \.poolStart,
        \.poolMinimum, \.poolEnd, \.poolUnwindPnL, \.ownLayersStart, \.ownLayersEnd, \.venueAssessments, \.badDebt,
        \.collateralMoved, \.adlNotional, \.neededBudget, \.productionHaircut, \.overshoot,
    ] }
    private static var ratios: [WritableKeyPath<OutcomeMetrics, Ratio>] { [\.maxHaircut, \.ptsr, \.pmr] }

    func encode(into writer: inout StateWriter) {
        for path in Self.counts { writer.write(Int64(self[keyPath: path])) }
        for path in Self.amounts { writer.write(self[keyPath: path].raw) }
        for path in Self.ratios { writer.write(self[keyPath: path].raw) }
        writer.write(Int64(openInterest.count))
        for venue in openInterest {
            writer.write(venue.venue)
            writer.write(venue.startNotional.raw)
            writer.write(venue.endNotional.raw)
        }
    }

    init(decoding reader: inout StateReader) throws(StateDecodingError) {
        self.init()
        for path in Self.counts { self[keyPath: path] = Int(try reader.read(Int64.self)) }
        for path in Self.amounts { self[keyPath: path] = Amount(raw: try reader.read()) }
        for path in Self.ratios { self[keyPath: path] = Ratio(raw: try reader.read()) }
        let venues: Int64 = try reader.read()
        guard venues >= 0, venues <= Int64(reader.remaining / 24) else { throw .invalid("\(venues) open-interest entries", at: reader.offset) }
        openInterest = try (0..<Int(venues)).map { _ throws(StateDecodingError) in
            VenueOpenInterest(venue: try reader.readString(), startNotional: Amount(raw: try reader.read()), endNotional: Amount(raw: try reader.read()))
        }
    }
}

extension StepSample {
    /// Bytes of one encoded sample.
    static let encodedSize = 10 * 8

    func encode(into writer: inout StateWriter) {
        for word in [timeSeconds, referencePrice.raw, minimumDepth.raw, poolEquity.raw, ownLayersEquity.raw,
                     liquidationNotional.raw, takeoverNotional.raw, adlNotional.raw, badDebt.raw, openInterest.raw] {
            writer.write(word)
        }
    }

    init(decoding reader: inout StateReader) throws(StateDecodingError) {
        self.init(
            timeSeconds: try reader.read(), referencePrice: Price(raw: try reader.read()), minimumDepth: Ratio(raw: try reader.read()),
            poolEquity: Amount(raw: try reader.read()), ownLayersEquity: Amount(raw: try reader.read()),
            liquidationNotional: Amount(raw: try reader.read()), takeoverNotional: Amount(raw: try reader.read()),
            adlNotional: Amount(raw: try reader.read()), badDebt: Amount(raw: try reader.read()), openInterest: Amount(raw: try reader.read()))
    }
}
