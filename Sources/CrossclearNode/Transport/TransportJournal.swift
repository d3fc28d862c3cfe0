import CrossclearStore
import CrossclearWire
import NIOCore

/// The names the transport gives its records in a node's ``Journal``, and the conversions between
/// wire values and journal records (see Docs/runtime.md).
enum TransportJournal {
    // MARK: - Names

    /// The clearing node's stream of one venue's epoch: `changes/<venue>/<epoch>` (one store stream
    /// per (venue, epoch), so the wire rule "every epoch starts on genesis" and the store's chain
    /// rules agree).
    static func changeStream(venue: String, epoch: UInt64) -> String { "changes/\(venue)/\(epoch)" }

    /// The venue and epoch of a stream named by ``changeStream(venue:epoch:)``; nil for any other.
    static func parseChangeStream(_ name: String) -> (venue: String, epoch: UInt64)? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "changes", !parts[1].isEmpty, let epoch = UInt64(parts[2]) else { return nil }
        return (String(parts[1]), epoch)
    }

    /// The cursor holding the largest epoch a venue announced in a Hello: `epoch/<venue>`.
    static func epochCursor(venue: String) -> String { "epoch/\(venue)" }

    // MARK: - Changes

    /// The journal entry recording `change` in `stream`, reusing the wire's chain hash.
    static func entry(for change: Change, stream: String) throws(WireError) -> JournalEntry {
        JournalEntry(
            stream: stream, epoch: Int64(change.epoch), sequence: Int64(change.sequence), kind: Int32(change.body.kind),
            payload: try WireEncoder.payload(of: change.body), previousHash: change.previousHash.bytes,
            hash: change.hash.bytes)
    }

    /// The journal entries recording `changes` in `stream`, in order: as ``entry(for:stream:)``,
    /// but a change chained onto the one before it shares that one's hash array as its
    /// `previousHash` (one array per change instead of two).
    static func entries(for changes: [Change], stream: String) throws(WireError) -> [JournalEntry] {
        var entries: [JournalEntry] = []
        entries.reserveCapacity(changes.count)
        var previous: (hash: ChainHash, bytes: [UInt8])?
        // By index, reading fields in place: iterating would copy every change (a retain of its body).
        for index in changes.indices {
            let previousHash =
                previous.flatMap { $0.hash == changes[index].previousHash ? $0.bytes : nil } ?? changes[index].previousHash.bytes
            let hash = changes[index].hash.bytes
            entries.append(JournalEntry(
                stream: stream, epoch: Int64(changes[index].epoch), sequence: Int64(changes[index].sequence),
                kind: Int32(changes[index].body.kind), payload: try WireEncoder.payload(of: changes[index].body),
                previousHash: previousHash, hash: hash))
            previous = (changes[index].hash, hash)
        }
        return entries
    }

    /// The change an entry records.
    static func change(from entry: JournalEntry) throws(TransportError) -> Change {
        guard let kind = UInt8(exactly: entry.kind) else {
            throw .unreadableJournalRecord("\(entry.stream) at \(entry.position): kind \(entry.kind) is not a change kind")
        }
        do {
            let body = try WireDecoder.changeBody(kind: kind, payload: entry.payload)
            return Change(
                epoch: UInt64(entry.epoch), sequence: UInt64(entry.sequence),
                previousHash: try ChainHash(bytes: entry.previousHash), hash: try ChainHash(bytes: entry.hash), body: body)
        } catch {
            throw .unreadableJournalRecord("\(entry.stream) at \(entry.position): \(error)")
        }
    }

    // MARK: - Instructions

    /// The outbox run of `instructions` (consecutive ids) for `venue`: their InstructionBatch frames
    /// back to back, each within the largest frame a node may configure.
    static func run(of instructions: [Instruction], venue: String) throws(WireError) -> OutboxRun {
        var buffer = ByteBuffer()
        let encoder = WireEncoder(configuration: storedFrames)
        for batch in InstructionBatch.split(instructions, maximumFrameLength: storedFrames.maximumFrameLength) {
            try encoder.encode(.instructionBatch(batch), into: &buffer)
        }
        return OutboxRun(
            destination: venue, first: instructions.first?.id ?? 0, last: instructions.last?.id ?? 0,
            payload: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    /// The instructions an outbox run holds, checked to be its ids `first...last` in order.
    static func instructions(in run: OutboxRun) throws(TransportError) -> [Instruction] {
        var buffer = ByteBuffer(bytes: run.payload)
        var instructions: [Instruction] = []
        do {
            for message in try WireDecoder(configuration: storedFrames).decodeFrames(from: &buffer) {
                guard case .instructionBatch(let batch) = message else {
                    throw TransportError.unreadableJournalRecord("outbox run \(run.destination) \(run.first)...\(run.last) holds a \(message.type)")
                }
                instructions += batch.instructions
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw .unreadableJournalRecord("outbox run \(run.destination) \(run.first)...\(run.last): \(error)")
        }
        guard buffer.readableBytes == 0, instructions.map(\.id) == Array(run.first...run.last) else {
            throw .unreadableJournalRecord("outbox run \(run.destination) \(run.first)...\(run.last) does not hold exactly those ids")
        }
        return instructions
    }

    /// Frames stored in the outbox may be as large as any node may configure (a run is split again
    /// to the link's own maximum when it is sent).
    private static let storedFrames = WireConfiguration(maximumFrameLength: WireProtocol.largestMaximumFrameLength)!
}
