import CrossclearEngine
import CrossclearWire
import Foundation
import NIOCore
import Testing

/// Throughput of the codec, printed, never asserted (timings vary by 40% run to run here).
/// Run with `CROSSCLEAR_WIRE_BENCH=1 swift test --filter ThroughputTests`; say which build it was.
@Suite("Codec throughput (measurement only)")
struct ThroughputTests {
    @Test(
        "encode and decode 200,000 account changes in batches of 1,000",
        .enabled(if: ProcessInfo.processInfo.environment["CROSSCLEAR_WIRE_BENCH"] == "1"))
    func throughput() throws {
        let count = 200_000
        var random = SeededRandom(seed: 99)
        let bodies: [ChangeBody] = (0..<count).map { index in
            let positions = (0..<(1 + Int(random.below(3)))).map { slot in
                PositionState(
                    asset: UInt16(slot * 3 + 1), quantity: Quantity(raw: random.int(in: -1_000_000_000...1_000_000_000) | 1),
                    basis: Amount(raw: random.int(in: -10_000_000_000...10_000_000_000)))
            }
            return .account(
                AccountState(account: UInt32(index % 50_000), trader: UInt32(index % 40_000), collateral: Amount(raw: random.int(in: 0...1_000_000_000_000)), positions: positions))
        }
        let clock = ContinuousClock()
        func rate(_ duration: Duration) -> Int {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return Int(Double(count) / seconds)
        }

        var hasher = ChainHasher(epoch: 1)
        var changes: [Change] = []
        changes.reserveCapacity(count)
        let hashing = try clock.measure {
            for body in bodies { changes.append(try hasher.append(body)) }
        }

        let encoder = WireEncoder()
        var buffer = ByteBufferAllocator().buffer(capacity: 64 << 20)
        let encoding = try clock.measure {
            for start in stride(from: 0, to: count, by: 1_000) {
                try encoder.encode(.changeBatch(ChangeBatch(changes: Array(changes[start..<(start + 1_000)]))), into: &buffer)
            }
        }
        let bytes = buffer.readableBytes

        func decodeAll(_ configuration: WireConfiguration) throws -> (Duration, Int) {
            var copy = buffer
            let decoder = WireDecoder(configuration: configuration)
            var decoded = 0
            let duration = try clock.measure {
                while let message = try decoder.decodeFrame(from: &copy) {
                    if case .changeBatch(let batch) = message { decoded += batch.changes.count }
                }
            }
            return (duration, decoded)
        }
        let (verified, verifiedCount) = try decodeAll(WireConfiguration(receiver: .clearing))
        let (unverified, _) = try decodeAll(WireConfiguration(receiver: .clearing, verifiesChangeHashes: false))
        #expect(verifiedCount == count)

        var tracker = SequenceTracker()
        let tracking = clock.measure {
            for change in changes { _ = tracker.accept(change) }
        }
        print(
            """
            wire throughput, \(count) account changes (1-3 positions, \(bytes / count) bytes each on the wire, batches of 1,000):
              ChainHasher.append (encode body + SHA-256): \(rate(hashing)) changes/s
              encode frames:                             \(rate(encoding)) changes/s (\(bytes / 1_000_000) MB)
              decode frames, hashes verified:            \(rate(verified)) changes/s
              decode frames, hashes not verified:        \(rate(unverified)) changes/s
              SequenceTracker.accept:                    \(rate(tracking)) changes/s
            """)
    }
}
