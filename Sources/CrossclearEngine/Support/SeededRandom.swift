/// SplitMix64: a small, fast, seeded generator. The only source of randomness in the engine and the
/// simulator; its state is part of the world, so runs replay exactly.
public struct SeededRandom: Sendable, Hashable, Codable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (bound > 0), without modulo bias.
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "empty range")
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let value = next()
            if value < limit { return value % bound }
        }
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(below(UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// True with probability `ratio` (0...1).
    public mutating func chance(_ ratio: Ratio) -> Bool {
        Int64(below(UInt64(Ratio.unit))) < ratio.raw
    }

    /// An index drawn with probability proportional to `weights` (non-negative, positive sum).
    public mutating func pick(weights: [Int64]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "weights must have a positive sum")
        var draw = Int64(below(UInt64(total)))
        for (index, weight) in weights.enumerated() {
            if draw < weight { return index }
            draw -= weight
        }
        return weights.count - 1
    }
}

/// FNV-1a, 64-bit: the digest of engine state (same state, same digest, on every machine).
public struct StateDigest: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ word: Int64) {
        var bits = UInt64(bitPattern: word)
        for _ in 0..<8 {
            value = (value ^ (bits & 0xFF)) &* 0x0000_0100_0000_01B3
            bits >>= 8
        }
    }

    public mutating func add(_ words: [Int64]) {
        add(Int64(words.count))
        for word in words { add(word) }
    }
}
