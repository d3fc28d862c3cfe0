// A small binary format for engine state (snapshots): little-endian integers, arrays as a count
// followed by their elements, strings as UTF-8 with a byte count. Arrays of integers are copied in
// bulk, so a world of a hundred thousand accounts encodes and decodes at memory speed.

/// Appends engine state to a byte buffer (see ``StateReader`` for the other direction).
public struct StateWriter: Sendable {
    /// What has been written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Reserves room for `count` more bytes.
    public mutating func reserveCapacity(_ count: Int) {
        bytes.reserveCapacity(bytes.count + count)
    }

    /// Writes one integer, little-endian.
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes a Boolean as one byte (0 or 1).
    public mutating func write(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// Writes a count and then the integers, little-endian.
    public mutating func write<T: FixedWidthInteger>(_ values: [T]) {
        write(Int64(values.count))
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for value in values { write(value) }
        #endif
    }

    /// Writes a count and then one byte (0 or 1) per Boolean.
    public mutating func write(_ values: [Bool]) {
        write(Int64(values.count))
        bytes.append(contentsOf: values.lazy.map { $0 ? 1 : 0 })
    }

    /// Writes integers most of which equal `base`: the count, `base`, then the indices (ascending)
    /// and values of the others. Read back with ``StateReader/readSparse(count:)``.
    public mutating func writeSparse(_ values: [Int64], base: Int64) {
        var indices: [UInt32] = []
        var others: [Int64] = []
        for (index, value) in values.enumerated() where value != base {
            indices.append(UInt32(index))
            others.append(value)
        }
        write(Int64(values.count))
        write(base)
        write(indices)
        write(others)
    }

    /// Writes Booleans most of which are false: the count, then the indices of the true ones.
    public mutating func writeSparse(_ values: [Bool]) {
        write(Int64(values.count))
        write(values.indices.filter { values[$0] }.map { UInt32($0) })
    }

    /// Writes a string as its UTF-8 byte count and bytes.
    public mutating func write(_ string: String) {
        write(Array(string.utf8))
    }

    /// Writes raw bytes, with no count (the reader must know how many).
    public mutating func writeRaw(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }
}

/// Reads what a ``StateWriter`` wrote, in the same order. Every read checks that the bytes are
/// there and that a count is plausible, so a damaged buffer throws instead of trapping.
public struct StateReader {
    private let bytes: [UInt8]
    /// The offset of the next byte to read.
    public private(set) var offset: Int

    /// A reader of `bytes` from `offset`.
    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes left to read.
    public var remaining: Int { bytes.count - offset }

    /// Reads one little-endian integer.
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(StateDecodingError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(at: offset) }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { target in
            bytes.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + size]))
            }
        }
        offset += size
        return T(littleEndian: value)
    }

    /// Reads a Boolean written as one byte.
    public mutating func read(_: Bool.Type = Bool.self) throws(StateDecodingError) -> Bool {
        let byte: UInt8 = try read()
        guard byte <= 1 else { throw .invalid("a Boolean byte is \(byte)", at: offset - 1) }
        return byte == 1
    }

    /// Reads a count: at least zero and, when each element takes `elementSize` bytes, no more
    /// than the bytes left can hold.
    private mutating func readCount(elementSize: Int) throws(StateDecodingError) -> Int {
        let start = offset
        let count: Int64 = try read()
        guard count >= 0, count <= Int64(remaining / max(1, elementSize)) else {
            throw .invalid("a count of \(count) elements of \(elementSize) bytes with \(remaining) bytes left", at: start)
        }
        return Int(count)
    }

    /// Reads an array of integers written by ``StateWriter/write(_:)-(Array<T>)``.
    public mutating func readArray<T: FixedWidthInteger>(of _: T.Type = T.self) throws(StateDecodingError) -> [T] {
        let count = try readCount(elementSize: MemoryLayout<T>.size)
        let size = count * MemoryLayout<T>.size
        let start = offset
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + size]))
            }
            initialized = count
        }
        offset += size
        #if _endian(little)
        return values
        #else
        return values.map { T(littleEndian: $0) }
        #endif
    }

    /// Reads an array of Booleans written one byte each.
    public mutating func readBools() throws(StateDecodingError) -> [Bool] {
        let count = try readCount(elementSize: 1)
        var values: [Bool] = []
        values.reserveCapacity(count)
        for index in offset..<offset + count {
            guard bytes[index] <= 1 else { throw .invalid("a Boolean byte is \(bytes[index])", at: index) }
            values.append(bytes[index] == 1)
        }
        offset += count
        return values
    }

    /// Reads what ``StateWriter/writeSparse(_:base:)`` wrote, which must hold `count` integers.
    public mutating func readSparse(count: Int) throws(StateDecodingError) -> [Int64] {
        let start = offset
        let written: Int64 = try read()
        guard written == Int64(count) else { throw .mismatch("\(written) values where \(count) were expected") }
        let base: Int64 = try read()
        let indices: [UInt32] = try readArray()
        let others: [Int64] = try readArray()
        guard indices.count == others.count, Self.isAscending(indices, below: count) else {
            throw .invalid("the indices of a sparse array are not ascending below \(count)", at: start)
        }
        var values = [Int64](repeating: base, count: count)
        for (index, value) in zip(indices, others) { values[Int(index)] = value }
        return values
    }

    /// Reads what ``StateWriter/writeSparse(_:)-(Array<Bool>)`` wrote, which must hold `count` Booleans.
    public mutating func readSparseBools(count: Int) throws(StateDecodingError) -> [Bool] {
        let start = offset
        let written: Int64 = try read()
        guard written == Int64(count) else { throw .mismatch("\(written) flags where \(count) were expected") }
        let indices: [UInt32] = try readArray()
        guard Self.isAscending(indices, below: count) else {
            throw .invalid("the indices of a sparse array are not ascending below \(count)", at: start)
        }
        var values = [Bool](repeating: false, count: count)
        for index in indices { values[Int(index)] = true }
        return values
    }

    private static func isAscending(_ indices: [UInt32], below count: Int) -> Bool {
        guard let last = indices.last else { return true }
        return Int(last) < count && zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 }
    }

    /// Reads a string written as UTF-8.
    public mutating func readString() throws(StateDecodingError) -> String {
        let start = offset
        let utf8: [UInt8] = try readArray()
        guard let string = String(validating: utf8, as: UTF8.self) else { throw .invalid("a string is not UTF-8", at: start) }
        return string
    }

    /// Reads `count` raw bytes.
    public mutating func readRaw(count: Int) throws(StateDecodingError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}

/// Why encoded engine state cannot be read back.
public enum StateDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes end before the value at this offset.
    case truncated(at: Int)
    /// The value at this offset is impossible (a count, a flag, a kind or an index out of range).
    case invalid(String, at: Int)
    /// The state was encoded for another configuration (a different number of venues, markets or assets).
    case mismatch(String)

    public var description: String {
        switch self {
        case .truncated(let offset): "the encoded state ends early (at byte \(offset))"
        case .invalid(let what, let offset): "the encoded state is invalid at byte \(offset): \(what)"
        case .mismatch(let what): "the encoded state does not fit the configuration: \(what)"
        }
    }
}
