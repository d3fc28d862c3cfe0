import CrossclearStore
import Foundation

/// Runs `body` with a fresh empty directory, removed afterwards (whatever `body` does).
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = try makeTemporaryDirectory()
    defer { removeTemporaryDirectory(path) }
    return try body(path)
}

/// The async form of `withTemporaryDirectory`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = try makeTemporaryDirectory()
    defer { removeTemporaryDirectory(path) }
    return try await body(path)
}

private func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("crossclear-store-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
}

private func removeTemporaryDirectory(_ path: String) {
    // A test may have made it read-only.
    _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    try? FileManager.default.removeItem(atPath: path)
}

/// A 32-byte stand-in for the caller's cryptographic hash: four FNV-1a-64 lanes. The store only
/// compares hashes, so any deterministic function of the content works in tests.
func testHash(_ parts: [[UInt8]]) -> [UInt8] {
    var result: [UInt8] = []
    for lane in 0..<4 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325 &+ UInt64(lane) &* 0x9e37_79b9_7f4a_7c15
        for part in parts {
            for byte in part + [0xff] {
                value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        for shift in stride(from: 0, to: 64, by: 8) {
            result.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
    return result
}

/// Produces a valid hash chain for one stream, the way a node's writer would.
struct ChainWriter {
    let stream: String
    var epoch: Int64 = 0
    var sequence: Int64 = 0
    var previousHash = JournalEntry.genesisHash

    init(stream: String, epoch: Int64 = 0) {
        self.stream = stream
        self.epoch = epoch
    }

    /// The next entry of the chain.
    mutating func next(kind: Int32 = 1, payload: [UInt8]? = nil) -> JournalEntry {
        sequence += 1
        let payload = payload ?? Array("\(stream) \(epoch):\(sequence)".utf8)
        let hash = testHash([
            Array(stream.utf8), Array(String(epoch).utf8), Array(String(sequence).utf8),
            Array(String(kind).utf8), payload, previousHash,
        ])
        let entry = JournalEntry(
            stream: stream, epoch: epoch, sequence: sequence, kind: kind, payload: payload,
            previousHash: previousHash, hash: hash)
        previousHash = hash
        return entry
    }

    /// The next `count` entries.
    mutating func next(_ count: Int) -> [JournalEntry] {
        (0..<count).map { _ in next() }
    }

    /// Starts a new, larger epoch: the next entry has sequence 1 and chains onto the last hash.
    mutating func startEpoch(_ newEpoch: Int64) {
        epoch = newEpoch
        sequence = 0
    }
}

/// An entry like `entry` with other content and hash at the same position (a fork).
func forked(_ entry: JournalEntry) -> JournalEntry {
    var copy = entry
    copy.payload = Array("forked".utf8)
    copy.hash = testHash([copy.hash, copy.payload])
    return copy
}
