// A tiny deterministic JSON builder for the report files.
//
// Foundation's encoders reorder keys and print numbers through Double; the report needs keys in the
// order they were written and money as its exact decimal text. A `JSONValue` keeps both, and
// `JSONWriter.render` turns it into the same bytes every time.

import CrossclearEngine

/// A JSON document built in code. Object members keep the order they were written in; numbers are
/// kept as exact decimal text.
enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// A JSON number as exact decimal text, e.g. "1234.56"; build it with `integer` or `decimal`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// An integer, written plain.
    static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// A fixed-point value (money, price, size, ratio), written as its exact decimal text.
    static func decimal(_ value: some FixedPointDecimal) -> JSONValue { .number(value.description) }
}

/// Renders `JSONValue` documents as indented JSON text.
enum JSONWriter {
    /// The document as pretty-printed JSON (two-space indent) ending with a newline.
    static func render(_ value: JSONValue) -> String {
        var output = ""
        write(value, depth: 0, into: &output)
        output += "\n"
        return output
    }

    /// A single value as compact text without any line break (used for table cells).
    static func compact(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): text
        case .string(let text): quoted(text)
        case .array(let elements): "[" + elements.map(compact).joined(separator: ",") + "]"
        case .object(let members): "{" + members.map { quoted($0.key) + ":" + compact($0.value) }.joined(separator: ",") + "}"
        }
    }

    private static func write(_ value: JSONValue, depth: Int, into output: inout String) {
        let inner = String(repeating: "  ", count: depth + 1)
        let outer = String(repeating: "  ", count: depth)
        switch value {
        case .array(let elements) where !elements.isEmpty:
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += inner
                write(element, depth: depth + 1, into: &output)
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += outer + "]"
        case .object(let members) where !members.isEmpty:
            output += "{\n"
            for (index, member) in members.enumerated() {
                output += inner + quoted(member.key) + ": "
                write(member.value, depth: depth + 1, into: &output)
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += outer + "}"
        default:
            output += compact(value)
        }
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
