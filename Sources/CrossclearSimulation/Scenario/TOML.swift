// A small TOML reader for scenario files, written by hand so that numbers keep their exact source
// text: money, prices and ratios are never converted through binary floating point.
//
// Supported: comments; bare, quoted and dotted keys; `[table]` and `[[array.of.tables]]` headers;
// basic strings ("..." with escapes) and literal strings ('...'), both also multi-line ("""/''');
// integers (decimal with `_` separators and a sign, or 0x/0o/0b); decimal numbers kept as text;
// booleans; arrays (multi-line, trailing comma, comments inside); inline tables.
// Rejected with a clear message: exponent notation (1e6), inf and nan, dates and times.
// Every key and every value remembers the 1-based line it starts on.

// MARK: - Errors

/// A syntax or structure error in a TOML document, at a 1-based line.
public struct TOMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line of the problem.
    public var line: Int
    /// What is wrong, in words, without the line.
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

// MARK: - Values

/// One TOML value and the line it starts on.
public struct TOMLValue: Sendable, Hashable {
    /// What the value is.
    public enum Kind: Sendable, Hashable {
        case string(String)
        case integer(Int64)
        /// A decimal number as its exact source text, `_` separators removed and a leading `+`
        /// dropped (e.g. "-0.25", "121000.5"). Never converted to binary floating point.
        case decimal(String)
        case boolean(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var kind: Kind
    /// 1-based line where the value starts; 0 for a value that did not come from a file (an override).
    public var line: Int
    /// True for the array that `[[name]]` sections build (later `[[name]]` headers append to it).
    public internal(set) var isArrayOfTables: Bool

    public init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
        self.isArrayOfTables = false
    }

    /// The table, if this value is one.
    public var table: TOMLTable? {
        if case .table(let table) = kind { return table }
        return nil
    }

    /// The elements, if this value is an array.
    public var array: [TOMLValue]? {
        if case .array(let elements) = kind { return elements }
        return nil
    }

    /// The text, if this value is a string.
    public var string: String? {
        if case .string(let text) = kind { return text }
        return nil
    }

    /// The kind of value with a short excerpt, for error messages: `a string ("cexx")`,
    /// `an integer (5)`, `a decimal number (0.5)`, `a boolean (true)`, `an array`, `a table`.
    public var typeDescription: String {
        switch kind {
        case .string(let text):
            let excerpt = text.count > 40 ? String(text.prefix(40)) + "..." : text
            return "a string (\"\(excerpt)\")"
        case .integer(let value): return "an integer (\(value))"
        case .decimal(let text): return "a decimal number (\(text))"
        case .boolean(let value): return "a boolean (\(value))"
        case .array: return isArrayOfTables ? "an array of tables" : "an array"
        case .table: return "a table"
        }
    }

    /// This value with every line number (its own, its elements', its keys') set to `line`.
    func settingLines(to line: Int) -> TOMLValue {
        var copy = self
        copy.line = line
        switch kind {
        case .array(let elements): copy.kind = .array(elements.map { $0.settingLines(to: line) })
        case .table(var table):
            table.line = line
            table.entries = table.entries.map { entry in
                TOMLTable.Entry(key: entry.key, keyLine: line, value: entry.value.settingLines(to: line))
            }
            copy.kind = .table(table)
        case .string, .integer, .decimal, .boolean: break
        }
        return copy
    }
}

// MARK: - Tables

/// An ordered TOML table: keys in the order they were written, each with its line.
public struct TOMLTable: Sendable, Hashable {
    /// One key and its value.
    public struct Entry: Sendable, Hashable {
        public var key: String
        /// 1-based line of the key (0 when set by an override).
        public var keyLine: Int
        public var value: TOMLValue

        public init(key: String, keyLine: Int, value: TOMLValue) {
            self.key = key
            self.keyLine = keyLine
            self.value = value
        }
    }

    /// How a table came to exist; decides whether a later header or dotted key may add to it.
    enum Origin: Sendable, Hashable {
        /// The document itself.
        case root
        /// A `[name]` or `[[name]]` header.
        case header
        /// An intermediate name of a header (`a` in `[a.b]`), which a later `[a]` may still define.
        case implicit
        /// Created by a dotted key (`a.b = 1`).
        case dotted
        /// An inline table `{ ... }`; closed to any later addition.
        case inline
    }

    /// The keys and values, in source order.
    public internal(set) var entries: [Entry]
    /// 1-based line of the header, inline table or first key that created the table (0 if none).
    public var line: Int
    var origin: Origin

    /// An empty table created at `line`.
    public init(line: Int) {
        self.init(line: line, origin: .header)
    }

    init(line: Int, origin: Origin) {
        self.entries = []
        self.line = line
        self.origin = origin
    }

    /// The keys, in source order.
    public var keys: [String] { entries.map(\.key) }

    /// The value of `key`, if present.
    public subscript(key: String) -> TOMLValue? { entry(key)?.value }

    /// The entry of `key`, if present.
    public func entry(_ key: String) -> Entry? {
        index(of: key).map { entries[$0] }
    }

    /// Sets the value of `key`, replacing any value it has (and keeping its key line) or appending it.
    public mutating func setValue(_ value: TOMLValue, forKey key: String, keyLine: Int) {
        if let index = index(of: key) {
            entries[index].value = value
        } else {
            entries.append(Entry(key: key, keyLine: keyLine, value: value))
        }
    }

    func index(of key: String) -> Int? {
        entries.firstIndex { $0.key == key }
    }
}

// MARK: - Entry points

/// Parses TOML documents and single values.
public enum TOML {
    /// Parses a whole document into its root table.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.parseDocument()
    }

    /// Parses exactly one value literal, such as `0.5`, `"cex"`, `[1, 2]` or `{ a = 1 }` (surrounding
    /// spaces allowed). Line numbers count from 1 within `text`.
    public static func parseValue(_ text: String) throws(TOMLError) -> TOMLValue {
        var parser = TOMLParser(text)
        return try parser.parseStandaloneValue()
    }
}

// MARK: - Parser

/// A recursive-descent parser over the document's Unicode scalars.
struct TOMLParser {
    /// One segment of a (possibly dotted) key.
    struct KeySegment {
        var name: String
        var line: Int
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var root = TOMLTable(line: 1, origin: .root)
    /// Path of the table that `key = value` lines currently go into (empty: the root).
    private var currentTablePath: [String] = []

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    // MARK: Cursor

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where position < scalars.count {
            if scalars[position] == "\n" { line += 1 }
            position += 1
        }
    }

    private func fail(_ message: String, line: Int? = nil) -> TOMLError {
        TOMLError(line: line ?? self.line, message: message)
    }

    /// The current character for error messages: `"x"`, `end of line` or `end of file`.
    private var describeCurrent: String {
        guard let scalar = current else { return "end of file" }
        if scalar == "\n" || scalar == "\r" { return "end of line" }
        return "\"\(scalar)\""
    }

    // MARK: Whitespace and comments

    private mutating func skipSpaces() {
        while current == " " || current == "\t" { advance() }
    }

    /// Skips a comment up to (not including) the end of its line.
    private mutating func skipComment() throws(TOMLError) {
        guard current == "#" else { return }
        while let scalar = current, scalar != "\n" {
            if scalar == "\r", peek(1) == "\n" { return }
            if isForbiddenControl(scalar) {
                throw fail("control character \(codePoint(scalar)) is not allowed in a comment")
            }
            advance()
        }
    }

    /// Skips spaces, tabs, newlines and comments.
    private mutating func skipBlankLinesAndComments() throws(TOMLError) {
        while let scalar = current {
            switch scalar {
            case " ", "\t", "\n": advance()
            case "\r":
                guard peek(1) == "\n" else { throw fail("a carriage return must be followed by a line feed") }
                advance()
            case "#": try skipComment()
            default: return
            }
        }
    }

    /// After a key/value pair or a header: optional spaces and comment, then a newline or the end.
    private mutating func expectEndOfLine(after what: String) throws(TOMLError) {
        skipSpaces()
        try skipComment()
        switch current {
        case nil: return
        case "\n": advance()
        case "\r" where peek(1) == "\n": advance(2)
        default: throw fail("expected the end of the line after \(what), found \(describeCurrent)")
        }
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        if current == "\u{FEFF}" { position += 1 }
        while true {
            try skipBlankLinesAndComments()
            guard let scalar = current else { break }
            if scalar == "[" {
                try parseHeader()
                try expectEndOfLine(after: "the table header")
            } else {
                let (keys, value) = try parseKeyValue()
                try Self.insert(value, keys: keys[...], tablePath: currentTablePath[...], in: &root)
                try expectEndOfLine(after: "the value of \"\(Self.dotted(keys))\"")
            }
        }
        return root
    }

    mutating func parseStandaloneValue() throws(TOMLError) -> TOMLValue {
        try skipBlankLinesAndComments()
        let value = try parseValue()
        try skipBlankLinesAndComments()
        guard current == nil else { throw fail("unexpected \(describeCurrent) after the value") }
        return value
    }

    /// `[a.b]` or `[[a.b]]`: defines the table and makes it the current one.
    private mutating func parseHeader() throws(TOMLError) {
        let headerLine = line
        advance()
        let isArrayOfTables = current == "["
        if isArrayOfTables { advance() }
        skipSpaces()
        let keys = try parseKey()
        skipSpaces()
        let closing = isArrayOfTables ? "]]" : "]"
        guard current == "]", !isArrayOfTables || peek(1) == "]" else {
            throw fail("expected \"\(closing)\" to close the table header, found \(describeCurrent)")
        }
        advance(closing.count)
        let header = isArrayOfTables ? "[[\(Self.dotted(keys))]]" : "[\(Self.dotted(keys))]"
        try Self.define(keys[...], arrayOfTables: isArrayOfTables, line: headerLine, header: header, in: &root)
        currentTablePath = keys.map(\.name)
    }

    /// `key = value`: the (dotted) key and the value, not yet inserted anywhere.
    private mutating func parseKeyValue() throws(TOMLError) -> ([KeySegment], TOMLValue) {
        let keys = try parseKey()
        skipSpaces()
        guard current == "=" else {
            throw fail("expected \"=\" after the key \"\(Self.dotted(keys))\", found \(describeCurrent)")
        }
        advance()
        skipSpaces()
        return (keys, try parseValue())
    }

    // MARK: Keys

    private static func dotted(_ keys: [KeySegment]) -> String {
        keys.map { segment in
            segment.name.unicodeScalars.allSatisfy(isBareKeyScalar) && !segment.name.isEmpty
                ? segment.name : "\"\(segment.name)\""
        }.joined(separator: ".")
    }

    /// A bare, quoted or dotted key.
    private mutating func parseKey() throws(TOMLError) -> [KeySegment] {
        var segments: [KeySegment] = []
        while true {
            skipSpaces()
            let segmentLine = line
            let name: String
            switch current {
            case "\""?:
                if peek(1) == "\"", peek(2) == "\"" { throw fail("a key cannot be a multi-line string") }
                name = try parseString(quote: "\"", escapes: true)
            case "'"?:
                if peek(1) == "'", peek(2) == "'" { throw fail("a key cannot be a multi-line string") }
                name = try parseString(quote: "'", escapes: false)
            case let scalar? where isBareKeyScalar(scalar):
                var text = String.UnicodeScalarView()
                while let next = current, isBareKeyScalar(next) {
                    text.append(next)
                    advance()
                }
                name = String(text)
            default:
                throw fail("expected a key, found \(describeCurrent)")
            }
            segments.append(KeySegment(name: name, line: segmentLine))
            skipSpaces()
            guard current == "." else { return segments }
            advance()
        }
    }

    // MARK: Building tables

    /// Defines the table named by `keys` for a `[header]` or appends a table for `[[header]]`.
    private static func define(_ keys: ArraySlice<KeySegment>, arrayOfTables: Bool, line: Int, header: String,
                               in table: inout TOMLTable) throws(TOMLError) {
        guard let key = keys.first else { return }
        let rest = keys.dropFirst()
        guard let index = table.index(of: key.name) else {
            let value: TOMLValue
            if !rest.isEmpty {
                var child = TOMLTable(line: line, origin: .implicit)
                try define(rest, arrayOfTables: arrayOfTables, line: line, header: header, in: &child)
                value = TOMLValue(.table(child), line: line)
            } else if arrayOfTables {
                var array = TOMLValue(.array([TOMLValue(.table(TOMLTable(line: line, origin: .header)), line: line)]), line: line)
                array.isArrayOfTables = true
                value = array
            } else {
                value = TOMLValue(.table(TOMLTable(line: line, origin: .header)), line: line)
            }
            table.entries.append(TOMLTable.Entry(key: key.name, keyLine: key.line, value: value))
            return
        }

        var existing = table.entries[index].value
        let conflict = TOMLError(line: line, message:
            "cannot define \(header): \"\(key.name)\" is already \(existing.typeDescription) (line \(existing.line))")
        if rest.isEmpty {
            if arrayOfTables {
                guard existing.isArrayOfTables, case .array(var elements) = existing.kind else { throw conflict }
                elements.append(TOMLValue(.table(TOMLTable(line: line, origin: .header)), line: line))
                existing.kind = .array(elements)
            } else {
                guard !existing.isArrayOfTables, case .table(var child) = existing.kind else { throw conflict }
                switch child.origin {
                case .implicit:
                    child.origin = .header
                    child.line = line
                case .dotted:
                    throw TOMLError(line: line, message:
                        "table \(header) was already defined with dotted keys on line \(existing.line)")
                case .inline:
                    throw TOMLError(line: line, message:
                        "table \(header) was already defined as an inline table on line \(existing.line)")
                case .header, .root:
                    throw TOMLError(line: line, message: "table \(header) is defined twice (first on line \(child.line))")
                }
                existing.kind = .table(child)
            }
        } else {
            switch existing.kind {
            case .table(var child) where !existing.isArrayOfTables:
                guard child.origin != .inline else {
                    throw TOMLError(line: line, message:
                        "cannot define \(header): \"\(key.name)\" is an inline table (line \(existing.line)) and cannot be extended")
                }
                try define(rest, arrayOfTables: arrayOfTables, line: line, header: header, in: &child)
                existing.kind = .table(child)
            case .array(var elements) where existing.isArrayOfTables:
                guard let last = elements.indices.last, case .table(var child) = elements[last].kind else { throw conflict }
                try define(rest, arrayOfTables: arrayOfTables, line: line, header: header, in: &child)
                elements[last].kind = .table(child)
                existing.kind = .array(elements)
            default:
                throw conflict
            }
        }
        table.entries[index].value = existing
    }

    /// Inserts `value` at the (dotted) `keys` inside the table at `tablePath`.
    private static func insert(_ value: TOMLValue, keys: ArraySlice<KeySegment>, tablePath: ArraySlice<String>,
                               in table: inout TOMLTable) throws(TOMLError) {
        if let name = tablePath.first {
            // The path was created by the current header, so every step exists and is a table
            // (the last element, for an array of tables).
            guard let index = table.index(of: name) else {
                throw TOMLError(line: value.line, message: "internal error: the current table \"\(name)\" is missing")
            }
            var child = table.entries[index].value
            switch child.kind {
            case .table(var nested):
                try insert(value, keys: keys, tablePath: tablePath.dropFirst(), in: &nested)
                child.kind = .table(nested)
            case .array(var elements):
                guard let last = elements.indices.last, case .table(var nested) = elements[last].kind else {
                    throw TOMLError(line: value.line, message: "internal error: \"\(name)\" is not a table")
                }
                try insert(value, keys: keys, tablePath: tablePath.dropFirst(), in: &nested)
                elements[last].kind = .table(nested)
                child.kind = .array(elements)
            default:
                throw TOMLError(line: value.line, message: "internal error: \"\(name)\" is not a table")
            }
            table.entries[index].value = child
            return
        }

        guard let key = keys.first else { return }
        let rest = keys.dropFirst()
        if rest.isEmpty {
            if let existing = table.entry(key.name) {
                throw TOMLError(line: key.line, message:
                    "duplicate key \"\(key.name)\" (first defined on line \(existing.keyLine))")
            }
            table.entries.append(TOMLTable.Entry(key: key.name, keyLine: key.line, value: value))
            return
        }

        // An intermediate segment of a dotted key: a table that dotted keys created, or a new one.
        if let index = table.index(of: key.name) {
            var existing = table.entries[index].value
            guard !existing.isArrayOfTables, case .table(var child) = existing.kind, child.origin == .dotted else {
                throw TOMLError(line: key.line, message:
                    "cannot add \"\(key.name).\(rest.map(\.name).joined(separator: "."))\": \"\(key.name)\" is already "
                    + "\(existing.typeDescription) (line \(existing.line))")
            }
            try insert(value, keys: rest, tablePath: [], in: &child)
            existing.kind = .table(child)
            table.entries[index].value = existing
        } else {
            var child = TOMLTable(line: key.line, origin: .dotted)
            try insert(value, keys: rest, tablePath: [], in: &child)
            table.entries.append(TOMLTable.Entry(key: key.name, keyLine: key.line, value: TOMLValue(.table(child), line: key.line)))
        }
    }

    // MARK: Values

    private mutating func parseValue() throws(TOMLError) -> TOMLValue {
        let startLine = line
        switch current {
        case nil:
            throw fail("expected a value, found end of file")
        case "\""?:
            let text = peek(1) == "\"" && peek(2) == "\""
                ? try parseMultilineString(quote: "\"", escapes: true) : try parseString(quote: "\"", escapes: true)
            return TOMLValue(.string(text), line: startLine)
        case "'"?:
            let text = peek(1) == "'" && peek(2) == "'"
                ? try parseMultilineString(quote: "'", escapes: false) : try parseString(quote: "'", escapes: false)
            return TOMLValue(.string(text), line: startLine)
        case "["?:
            return try parseArray()
        case "{"?:
            return try parseInlineTable()
        default:
            var token = String.UnicodeScalarView()
            while let scalar = current, !isTokenTerminator(scalar) {
                token.append(scalar)
                advance()
            }
            guard !token.isEmpty else {
                throw fail("expected a value, found \(describeCurrent)")
            }
            return TOMLValue(try Self.classify(String(token), line: startLine), line: startLine)
        }
    }

    private mutating func parseArray() throws(TOMLError) -> TOMLValue {
        let startLine = line
        advance()
        var elements: [TOMLValue] = []
        while true {
            try skipBlankLinesAndComments()
            guard current != nil else { throw fail("unterminated array: missing \"]\"", line: startLine) }
            if current == "]" {
                advance()
                break
            }
            elements.append(try parseValue())
            try skipBlankLinesAndComments()
            switch current {
            case ","?:
                advance()
            case "]"?:
                advance()
                return TOMLValue(.array(elements), line: startLine)
            case nil:
                throw fail("unterminated array: missing \"]\"", line: startLine)
            default:
                throw fail("expected \",\" or \"]\" in the array, found \(describeCurrent)")
            }
        }
        return TOMLValue(.array(elements), line: startLine)
    }

    private mutating func parseInlineTable() throws(TOMLError) -> TOMLValue {
        let startLine = line
        advance()
        var table = TOMLTable(line: startLine, origin: .inline)
        while true {
            try skipBlankLinesAndComments()
            guard current != nil else { throw fail("unterminated inline table: missing \"}\"", line: startLine) }
            if current == "}" {
                advance()
                break
            }
            let (keys, value) = try parseKeyValue()
            try Self.insert(value, keys: keys[...], tablePath: [], in: &table)
            try skipBlankLinesAndComments()
            switch current {
            case ","?:
                advance()
            case "}"?:
                advance()
                return TOMLValue(.table(table), line: startLine)
            case nil:
                throw fail("unterminated inline table: missing \"}\"", line: startLine)
            default:
                throw fail("expected \",\" or \"}\" in the inline table, found \(describeCurrent)")
            }
        }
        return TOMLValue(.table(table), line: startLine)
    }

    // MARK: Strings

    /// `"..."` (basic, with escapes) or `'...'` (literal, without) on one line.
    private mutating func parseString(quote: Unicode.Scalar, escapes: Bool) throws(TOMLError) -> String {
        let startLine = line
        advance()
        var text = String.UnicodeScalarView()
        while true {
            guard let scalar = current else { throw fail("unterminated string: missing closing \(quote)", line: startLine) }
            switch scalar {
            case quote:
                advance()
                return String(text)
            case "\n", "\r":
                throw fail("unterminated string: a \(quote)...\(quote) string must end on its line (use \(quote)\(quote)\(quote) for several lines)")
            case "\\" where escapes:
                advance()
                try parseEscape(into: &text)
            default:
                try appendPlain(scalar, to: &text, escapes: escapes)
            }
        }
    }

    /// `"""..."""` (with escapes) or `'''...'''` (without): a newline right after the opening quotes
    /// is dropped; in a basic string a backslash at the end of a line removes the newline and the
    /// leading whitespace of the next lines.
    private mutating func parseMultilineString(quote: Unicode.Scalar, escapes: Bool) throws(TOMLError) -> String {
        let startLine = line
        advance(3)
        skipNewlineAfterOpeningQuotes()
        var text = String.UnicodeScalarView()
        while true {
            guard let scalar = current else {
                throw fail("unterminated string: missing closing \(quote)\(quote)\(quote)", line: startLine)
            }
            if scalar == quote, peek(1) == quote, peek(2) == quote {
                var quotes = 3
                while quotes < 5, peek(quotes) == quote { quotes += 1 }
                for _ in 3..<quotes { text.append(quote) }
                advance(quotes)
                return String(text)
            }
            switch scalar {
            case "\\" where escapes:
                var lookahead = 1
                while peek(lookahead) == " " || peek(lookahead) == "\t" { lookahead += 1 }
                if peek(lookahead) == "\n" || (peek(lookahead) == "\r" && peek(lookahead + 1) == "\n") {
                    advance(lookahead)
                    while let next = current, next == " " || next == "\t" || next == "\n" || next == "\r" { advance() }
                } else {
                    advance()
                    try parseEscape(into: &text)
                }
            case "\r":
                guard peek(1) == "\n" else { throw fail("a carriage return must be followed by a line feed") }
                advance()
            case "\n":
                text.append("\n")
                advance()
            default:
                try appendPlain(scalar, to: &text, escapes: escapes)
            }
        }
    }

    private mutating func skipNewlineAfterOpeningQuotes() {
        if current == "\n" {
            advance()
        } else if current == "\r", peek(1) == "\n" {
            advance(2)
        }
    }

    /// Appends one ordinary character of a string, refusing control characters.
    private mutating func appendPlain(_ scalar: Unicode.Scalar, to text: inout String.UnicodeScalarView, escapes: Bool) throws(TOMLError) {
        guard !isForbiddenControl(scalar) else {
            throw fail("control character \(codePoint(scalar)) is not allowed in a string\(escapes ? " (use an escape)" : "")")
        }
        text.append(scalar)
        advance()
    }

    /// The character after a backslash (already consumed).
    private mutating func parseEscape(into text: inout String.UnicodeScalarView) throws(TOMLError) {
        guard let scalar = current else { throw fail("unterminated string: missing closing \"") }
        advance()
        switch scalar {
        case "\"": text.append("\"")
        case "\\": text.append("\\")
        case "n": text.append("\n")
        case "t": text.append("\t")
        case "r": text.append("\r")
        case "b": text.append("\u{08}")
        case "f": text.append("\u{0C}")
        case "e": text.append("\u{1B}")
        case "u", "U":
            let digits = scalar == "u" ? 4 : 8
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let next = current, let digit = hexDigitValue(next) else {
                    throw fail("\\\(scalar) must be followed by \(digits) hexadecimal digits")
                }
                value = value * 16 + digit
                advance()
            }
            guard let decoded = Unicode.Scalar(value) else {
                throw fail("\\\(scalar) escape names an invalid Unicode scalar")
            }
            text.append(decoded)
        default:
            throw fail("invalid escape \\\(scalar) (allowed: \\\" \\\\ \\n \\t \\r \\b \\f \\e \\uXXXX \\UXXXXXXXX)")
        }
    }

    // MARK: Numbers, booleans and bare words

    /// Turns an unquoted token into a boolean, integer or decimal, or explains why it is none.
    static func classify(_ token: String, line: Int) throws(TOMLError) -> TOMLValue.Kind {
        func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

        if token == "true" { return .boolean(true) }
        if token == "false" { return .boolean(false) }

        var body = Substring(token)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        if body == "inf" || body == "nan" {
            throw fail("\(token) is not allowed: scenario numbers must be finite, exact decimals")
        }
        guard let first = body.first, first.isASCIIDigitCharacter || first == "." else {
            if token.first?.isLetter == true {
                throw fail("expected a value, found the bare word \(token) (strings need quotes: \"\(token)\")")
            }
            throw fail("expected a value (a \"string\", a number, true or false, an [array] or an {inline table}), "
                       + "found \(token)")
        }

        // 0x / 0o / 0b integers.
        if body.count > 2, first == "0", let radixMark = body.dropFirst().first, "xob".contains(radixMark) {
            guard token.first != "+" && token.first != "-" else {
                throw fail("\(token): a sign is not allowed on a hexadecimal, octal or binary integer")
            }
            let radix = radixMark == "x" ? 16 : radixMark == "o" ? 8 : 2
            let digits = body.dropFirst(2)
            guard isDigitGroup(digits, radix: radix), let value = Int64(digits.filter { $0 != "_" }, radix: radix) else {
                throw fail("invalid integer \(token)")
            }
            return .integer(value)
        }

        if body.contains(":") || (body.count >= 8 && body.dropFirst(4).first == "-") {
            throw fail("\(token): dates and times are not supported")
        }
        let numberCharacters = Set("0123456789_.eE+-")
        if body.contains(where: { $0 == "e" || $0 == "E" }), body.allSatisfy(numberCharacters.contains) {
            throw fail("\(token): exponent notation is not supported; write the number out in full "
                       + "(for example 1_000_000 or 0.000001) so that it stays exact")
        }

        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let wholePart = parts[0]
        guard !wholePart.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw fail("\(token): a decimal point needs digits on both sides (write 0.5, 5.0)")
        }
        guard isDigitGroup(wholePart, radix: 10), parts.count == 1 || isDigitGroup(parts[1], radix: 10) else {
            throw fail(token.contains("_") ? "invalid number \(token) (underscores must sit between digits)"
                                           : "invalid number \(token)")
        }
        if wholePart.count > 1, wholePart.first == "0" {
            throw fail("\(token): leading zeros are not allowed")
        }
        let wholeDigits = wholePart.filter { $0 != "_" }
        let sign = negative ? "-" : ""
        if parts.count == 1 {
            guard let value = Int64(sign + wholeDigits) else {
                throw fail("integer \(token) does not fit in 64 bits")
            }
            return .integer(value)
        }
        return .decimal(sign + wholeDigits + "." + parts[1].filter { $0 != "_" })
    }

    /// Digits of `radix` with `_` allowed only between two digits.
    private static func isDigitGroup(_ text: Substring, radix: Int) -> Bool {
        guard let first = text.first, let last = text.last, first != "_", last != "_" else { return false }
        var previousWasUnderscore = false
        for character in text {
            if character == "_" {
                if previousWasUnderscore { return false }
                previousWasUnderscore = true
            } else {
                guard character.isASCII, let digit = character.hexDigitValue, digit < radix else { return false }
                previousWasUnderscore = false
            }
        }
        return true
    }
}

// MARK: - Character classes

private func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
    default: return false
    }
}

/// Characters that end an unquoted value token.
private func isTokenTerminator(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case " ", "\t", "\n", "\r", ",", "]", "}", "#", "=", "[", "{", "\"", "'": return true
    default: return false
    }
}

/// Control characters other than tab, which TOML forbids in strings and comments.
private func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
    (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
}

private func codePoint(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}

private func hexDigitValue(_ scalar: Unicode.Scalar) -> UInt32? {
    switch scalar {
    case "0"..."9": return scalar.value - 48
    case "a"..."f": return scalar.value - 87
    case "A"..."F": return scalar.value - 55
    default: return nil
    }
}

extension Character {
    /// An ASCII digit 0-9.
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isWholeNumber }
}
