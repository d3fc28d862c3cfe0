/// The format of an `entry_run` row's payload: consecutive entries of one stream and epoch, each
/// chained onto the one before it (see Docs/store.md, "Runs").
///
/// Per entry, in sequence order: its kind (Int32, 4 bytes little-endian), its payload's length
/// (UInt32, 4 bytes little-endian), the payload, and its 32-byte hash. The row holds the stream,
/// epoch, first and last sequence and the first entry's `previousHash`; every later entry's
/// `previousHash` is the hash of the entry before it.
enum EntryRun {
    /// A run stops growing at this many payload bytes (a single larger entry is a run of its own),
    /// so that a row, and what a lookup in the middle of it reads, stays bounded.
    static let maximumPayloadBytes = 1 << 20

    /// The bytes an entry with `payloadCount` payload bytes takes in a run.
    static func encodedLength(payloadCount: Int) -> Int {
        8 + payloadCount + JournalEntry.hashLength
    }

    /// Writes `entry` (kind, length, payload, hash) at `target`, which must have room for
    /// `encodedLength(payloadCount: entry.payload.count)` bytes.
    static func write(_ entry: JournalEntry, to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: entry.kind.littleEndian, as: Int32.self)
        target.storeBytes(of: UInt32(entry.payload.count).littleEndian, toByteOffset: 4, as: UInt32.self)
        entry.payload.withUnsafeBytes { payload in
            if let base = payload.baseAddress { (target + 8).copyMemory(from: base, byteCount: payload.count) }
        }
        entry.hash.withUnsafeBytes { hash in
            (target + 8 + entry.payload.count).copyMemory(from: hash.baseAddress!, byteCount: hash.count)
        }
    }

    /// One entry of a run, pointing into the row's columns (valid while the row is).
    struct Entry {
        var sequence: Int64
        var kind: Int32
        var payload: UnsafeRawBufferPointer
        var previousHash: UnsafeRawBufferPointer
        var hash: UnsafeRawBufferPointer
    }

    /// Decodes a run's entries in order, in place, checking every length: a run that does not
    /// hold exactly the entries `first...last` throws `StoreError` (`.corrupt`) naming the stream
    /// and the position. Readers decode every run they read to its end (``finish()``).
    struct Reader {
        let stream: String
        let epoch: Int64
        let first: Int64
        let last: Int64
        /// The hash of the entry before the next one to decode.
        private(set) var previousHash: UnsafeRawBufferPointer
        /// The sequence of the next entry to decode.
        private(set) var sequence: Int64
        private let payload: UnsafeRawBufferPointer
        private var offset = 0
        private let path: String
        private let operation: String

        init(
            stream: String, epoch: Int64, first: Int64, last: Int64, previousHash: UnsafeRawBufferPointer,
            payload: UnsafeRawBufferPointer, path: String, operation: String
        ) throws {
            self.stream = stream
            self.epoch = epoch
            self.first = first
            self.last = last
            self.previousHash = previousHash
            self.sequence = first
            self.payload = payload
            self.path = path
            self.operation = operation
            guard first >= 1, last >= first else { throw corrupt("its sequences \(first)...\(last) are not a range from 1") }
            guard previousHash.count == JournalEntry.hashLength else {
                throw corrupt("its previous hash has \(previousHash.count) bytes, expected \(JournalEntry.hashLength)")
            }
        }

        /// The bytes after the entries decoded so far (the encoded entries `sequence...last`).
        var remaining: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: payload[offset...]) }

        /// The next entry, or nil after `last` (then the payload must be used up exactly).
        mutating func next() throws -> Entry? {
            guard sequence <= last else {
                guard offset == payload.count else { throw corrupt("\(payload.count - offset) bytes follow entry \(epoch):\(last)") }
                return nil
            }
            guard payload.count - offset >= 8 else { throw corrupt("entry \(epoch):\(sequence) overruns the payload") }
            let kind = Int32(littleEndian: payload.loadUnaligned(fromByteOffset: offset, as: Int32.self))
            let length = Int(UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
            guard payload.count - offset - 8 >= length + JournalEntry.hashLength else {
                throw corrupt("entry \(epoch):\(sequence) (payload of \(length) bytes and hash) overruns the payload")
            }
            let start = offset + 8
            let entry = Entry(
                sequence: sequence, kind: kind,
                payload: UnsafeRawBufferPointer(rebasing: payload[start..<(start + length)]),
                previousHash: previousHash,
                hash: UnsafeRawBufferPointer(rebasing: payload[(start + length)..<(start + length + JournalEntry.hashLength)]))
            offset = start + length + JournalEntry.hashLength
            previousHash = entry.hash
            sequence += 1
            return entry
        }

        /// Decodes and drops the entries up to and including `target` (at most `last`).
        mutating func skip(through target: Int64) throws {
            while sequence <= min(target, last) {
                _ = try next()
            }
        }

        /// Decodes the entries not read yet, so that a damaged run is noticed whatever part of it
        /// a caller needed.
        mutating func finish() throws {
            while try next() != nil {}
        }

        private func corrupt(_ problem: String) -> StoreError {
            StoreError(
                .corrupt, path: path, operation: operation,
                cause: "stream \(stream), run \(epoch):\(first)...\(epoch):\(last): \(problem)")
        }
    }
}
