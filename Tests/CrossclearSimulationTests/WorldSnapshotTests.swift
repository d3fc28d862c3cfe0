import CrossclearEngine
import Testing

@testable import CrossclearSimulation

/// A world encoded with `encodeState` and decoded under the same configuration is the same world:
/// equal in every stored property, and every later event has the same effect (what a venue node's
/// snapshot relies on).
@Suite("World snapshot")
struct WorldSnapshotTests {
    static let scenario = SimulatorDeterminismTests.scenario

    /// Every stored property of `value`, as `dump` prints it.
    static func dumped(_ value: some Any) -> String {
        var text = ""
        dump(value, to: &text, maxDepth: .max, maxItems: .max)
        return text
    }

    static func roundTrip(_ world: World) throws -> World {
        var writer = StateWriter()
        world.encodeState(into: &writer)
        var reader = StateReader(writer.bytes)
        let decoded = try World(config: world.config, decoding: &reader)
        #expect(reader.remaining == 0)
        return decoded
    }

    @Test("a world decoded at every step equals the original and runs to the same outcome", arguments: ClearingDesign.allCases)
    func roundTripEveryStep(_ design: ClearingDesign) throws {
        let scenario = Self.scenario
        var world = World(config: scenario.engineConfig(design: design))
        Simulator.setUp(&world, scenario: scenario, traders: Simulator.population(scenario))
        let prices = PriceModel(scenario: scenario)
        for step in 1...scenario.stepCount {
            let decoded = try Self.roundTrip(world)
            #expect(Self.dumped(decoded) == Self.dumped(world), "\(design) before step \(step)")
            // Carry on with the decoded world: the run must end exactly where the simulator's does.
            world = decoded
            let time = Int64(step) * scenario.timeStepSeconds
            world.apply(.step(timeSeconds: time, referencePrices: prices.prices(at: time)))
        }
        let expected = Simulator.run(scenario, design: design)
        #expect(world.outcome() == expected)
        #expect(world.digest() == expected.stateDigest)
        // The crash stressed this world: the snapshots carried liquidations and samples.
        #expect(world.metrics.liquidationCount > 0)
    }

    @Test("every stored property is covered: a new one must be added to World+Snapshot.swift and counted here")
    func storedPropertiesCounted() {
        var world = World(config: Self.scenario.engineConfig(design: .sharedFull))
        Simulator.setUp(&world, scenario: Self.scenario, traders: Simulator.population(Self.scenario))
        #expect(Mirror(reflecting: world).children.count == 30)
        #expect(Mirror(reflecting: world.venues[0]).children.count == 19)
        #expect(Mirror(reflecting: world.venues[0].markets[0]).children.count == 10)
        #expect(Mirror(reflecting: OutcomeMetrics()).children.count == 29)
        let sample = StepSample(timeSeconds: 0, referencePrice: .zero, minimumDepth: .one, poolEquity: .zero, ownLayersEquity: .zero,
                                liquidationNotional: .zero, takeoverNotional: .zero, adlNotional: .zero, badDebt: .zero, openInterest: .zero)
        #expect(Mirror(reflecting: sample).children.count == 10)
        #expect(Mirror(reflecting: VenueOpenInterest(venue: "", startNotional: .zero, endNotional: .zero)).children.count == 3)
    }

    @Test("sparse columns round-trip, and a sparse column of another length or with indices out of order is refused")
    func sparseColumns() throws {
        let values: [Int64] = [5, 5, -1, 5, Int64.max, 5, 0]
        let flags = [false, true, false, false, true]
        var writer = StateWriter()
        writer.writeSparse(values, base: 5)
        writer.writeSparse(flags)
        writer.writeSparse([], base: 0)
        var reader = StateReader(writer.bytes)
        #expect(try reader.readSparse(count: values.count) == values)
        #expect(try reader.readSparseBools(count: flags.count) == flags)
        #expect(try reader.readSparse(count: 0) == [])
        #expect(reader.remaining == 0)

        var wrongLength = StateReader(writer.bytes)
        #expect(throws: StateDecodingError.self) { _ = try wrongLength.readSparse(count: values.count + 1) }
        // Indices 2 and 4 swapped.
        var swapped = StateWriter()
        swapped.write(Int64(values.count))
        swapped.write(Int64(5))
        swapped.write([UInt32(4), 2])
        swapped.write([Int64.max, -1])
        var swappedReader = StateReader(swapped.bytes)
        #expect(throws: StateDecodingError.self) { _ = try swappedReader.readSparse(count: values.count) }
    }

    @Test("damaged or foreign bytes throw instead of trapping")
    func damagedBytes() throws {
        var world = World(config: Self.scenario.engineConfig(design: .sharedPool))
        Simulator.setUp(&world, scenario: Self.scenario, traders: Simulator.population(Self.scenario))
        var writer = StateWriter()
        world.encodeState(into: &writer)
        let bytes = writer.bytes
        for length in [0, 3, 11, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            var reader = StateReader(Array(bytes[..<length]))
            #expect(throws: StateDecodingError.self) { _ = try World(config: world.config, decoding: &reader) }
        }
        // Another configuration (one venue fewer) is refused, not misread.
        var other = world.config
        other.venues.removeLast()
        var reader = StateReader(bytes)
        #expect(throws: StateDecodingError.self) { _ = try World(config: other, decoding: &reader) }
        // A count that claims more than the bytes hold.
        var inflated = bytes
        inflated.replaceSubrange(4..<12, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        var inflatedReader = StateReader(inflated)
        #expect(throws: StateDecodingError.self) { _ = try World(config: world.config, decoding: &inflatedReader) }
    }
}
