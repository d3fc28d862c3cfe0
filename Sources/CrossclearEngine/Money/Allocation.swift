// Exact splitting of an amount over weights: the shares always sum to the total, unit for unit.

/// Splits `total` over `weights` (non-negative) exactly: shares are proportional, rounded down, and
/// the units left over go to the largest remainders (ties to the lowest index). Zero weights get zero;
/// all-zero weights split evenly.
public func allocate(_ total: Amount, weights: [Int64]) -> [Amount] {
    guard !weights.isEmpty else { return [] }
    let weightSum = weights.reduce(Int128(0)) { $0 + Int128(max(0, $1)) }
    if weightSum == 0 {
        return allocate(total, weights: Array(repeating: 1, count: weights.count))
    }
    var shares = [Int64](repeating: 0, count: weights.count)
    var remainders: [(remainder: Int128, index: Int)] = []
    var assigned: Int64 = 0
    for (index, weight) in weights.enumerated() {
        let exact = Int128(total.raw) * Int128(max(0, weight))
        shares[index] = Int64(exact / weightSum)
        assigned += shares[index]
        remainders.append((exact % weightSum, index))
    }
    remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
    var left = total.raw - assigned
    var cursor = 0
    while left > 0 {
        shares[remainders[cursor % remainders.count].index] += 1
        left -= 1
        cursor += 1
    }
    return shares.map { Amount(raw: $0) }
}

/// Splits `total` over `weights` in proportion, but never more than `caps[i]` to one share: what a
/// capped share cannot take is spread over the others. The result sums to `min(total, sum(caps))`.
public func allocateCapped(_ total: Int64, weights: [Int64], caps: [Int64]) -> [Int64] {
    var shares = [Int64](repeating: 0, count: weights.count)
    var open = Set(weights.indices.filter { caps[$0] > 0 })
    var left = min(total, caps.reduce(0) { $0 + max(0, $1) })
    while left > 0 && !open.isEmpty {
        let members = open.sorted()
        let split = allocate(Amount(raw: left), weights: members.map { max(0, weights[$0]) })
        var overflow: Int64 = 0
        for (member, share) in zip(members, split) {
            let room = caps[member] - shares[member]
            let take = min(room, share.raw)
            shares[member] += take
            overflow += share.raw - take
            if shares[member] == caps[member] { open.remove(member) }
        }
        left = overflow
    }
    return shares
}
