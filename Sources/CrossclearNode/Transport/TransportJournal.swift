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

    /// The cursor holding the last instruction id assigned to a venue: `instructions/<venue>/last-id`.
    static func instructionIDCursor(venue: String) -> String { "instructions/\(venue)/last-id" }

    /// The outbox id of an instruction: `instruction/<venue>/<id>` (the outbox destination is the
    /// venue name).
    static func outboxID(venue: String, instruction id: UInt64) -> String { "instruction/\(venue)/\(id)" }

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
        for change in changes {
            let previousHash = previous.flatMap { $0.hash == change.previousHash ? $0.bytes : nil } ?? change.previousHash.bytes
            let hash = change.hash.bytes
            entries.append(JournalEntry(
                stream: stream, epoch: Int64(change.epoch), sequence: Int64(change.sequence), kind: Int32(change.body.kind),
                payload: try WireEncoder.payload(of: change.body), previousHash: previousHash, hash: hash))
            previous = (change.hash, hash)
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

    /// The outbox payload of an instruction: the frame of an InstructionBatch holding only it.
    static func payload(of instruction: Instruction) throws(WireError) -> [UInt8] {
        var buffer = ByteBuffer()
        try WireEncoder().encode(.instructionBatch(InstructionBatch(instructions: [instruction])), into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// The instruction an outbox payload holds.
    static func instruction(from item: OutboxItem) throws(TransportError) -> Instruction {
        var buffer = ByteBuffer(bytes: item.payload)
        let message: WireMessage?
        do {
            message = try WireDecoder().decodeFrame(from: &buffer)
        } catch {
            throw .unreadableJournalRecord("outbox item \(item.id): \(error)")
        }
        guard case .instructionBatch(let batch) = message, batch.instructions.count == 1, buffer.readableBytes == 0 else {
            throw .unreadableJournalRecord("outbox item \(item.id) does not hold exactly one instruction")
        }
        return batch.instructions[0]
    }
}
