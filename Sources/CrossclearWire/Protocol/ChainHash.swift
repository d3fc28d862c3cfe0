/// A 32-byte SHA-256 value of the change hash chain, stored inline (no allocation per change).
///
/// Build one from bytes with ``init(bytes:)`` (which rejects any length but 32), read them back
/// with ``bytes``. ``genesis`` (32 zero bytes) is the `previousHash` of the first change of every
/// epoch.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    // The 32 bytes as four big-endian words: word0 holds bytes 0...7.
    @usableFromInline var word0: UInt64
    @usableFromInline var word1: UInt64
    @usableFromInline var word2: UInt64
    @usableFromInline var word3: UInt64

    @inlinable init(word0: UInt64, word1: UInt64, word2: UInt64, word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// 32 zero bytes: the `previousHash` of sequence 1 in every epoch.
    public static let genesis = ChainHash(word0: 0, word1: 0, word2: 0, word3: 0)

    /// The hash whose bytes are `bytes`.
    ///
    /// - Throws: ``WireError/invalidHashLength(_:)`` unless there are exactly 32 bytes.
    public init(bytes: [UInt8]) throws(WireError) {
        // Not generic: the journal hands over arrays, one per stored hash, on every resend.
        guard bytes.count == WireProtocol.hashLength else { throw .invalidHashLength(bytes.count) }
        self = bytes.withUnsafeBytes { ChainHash(raw: $0, offset: 0) }
    }

    /// The hash whose bytes are `bytes`.
    ///
    /// - Throws: ``WireError/invalidHashLength(_:)`` unless there are exactly 32 bytes.
    public init(bytes: some Collection<UInt8>) throws(WireError) {
        guard bytes.count == WireProtocol.hashLength else { throw .invalidHashLength(bytes.count) }
        if let hash = bytes.withContiguousStorageIfAvailable({ ChainHash(raw: UnsafeRawBufferPointer($0), offset: 0) }) {
            self = hash
            return
        }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        self.init(word0: words[0], word1: words[1], word2: words[2], word3: words[3])
    }

    /// Reads 32 bytes at `offset` of `raw` (the caller checked the bounds).
    @inlinable init(raw: UnsafeRawBufferPointer, offset: Int) {
        self.init(
            word0: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
            word1: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
            word2: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)),
            word3: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)))
    }

    /// The 32 bytes, in order (one allocation: the array).
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: WireProtocol.hashLength) { storage, initialized in
            let raw = UnsafeMutableRawBufferPointer(storage)
            raw.storeBytes(of: word0.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: word1.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: word2.bigEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: word3.bigEndian, toByteOffset: 24, as: UInt64.self)
            initialized = WireProtocol.hashLength
        }
    }

    /// Whether this is the genesis hash (32 zero bytes).
    public var isGenesis: Bool { self == .genesis }

    /// 64 lowercase hex digits.
    public var description: String { bytes.map(hex).joined() }
}
