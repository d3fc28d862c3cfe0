import Testing
@testable import CrossclearSimulation

/// The hand-written TOML reader: what scenario files need, exact numbers, lines, and clear errors.
@Suite("TOML parser")
struct TOMLTests {
    // MARK: - Helpers

    private func parse(_ text: String) throws -> TOMLTable {
        try TOML.parse(text)
    }

    /// The error a document raises (fails the test if it parses).
    private func error(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
        do {
            _ = try TOML.parse(text)
            Issue.record("expected a parse error", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Scalars

    @Test("strings: basic with escapes, literal, unicode escapes")
    func strings() throws {
        let table = try parse(#"""
        a = "tab\there \"quoted\" back\\slash\nnew"
        b = 'C:\no\escapes'
        c = "\u00e9\U0001F600"
        d = ""
        """#)
        #expect(table["a"]?.string == "tab\there \"quoted\" back\\slash\nnew")
        #expect(table["b"]?.string == #"C:\no\escapes"#)
        #expect(table["c"]?.string == "é😀")
        #expect(table["d"]?.string == "")
    }

    @Test("multi-line strings drop the first newline and honour line-ending backslashes")
    func multilineStrings() throws {
        let table = try parse("""
        a = \"\"\"
        one
        two\"\"\"
        b = \"\"\"joined \\
              together\"\"\"
        c = '''
        raw \\n text'''
        d = \"\"\"ends with a quote\"\"\"\"
        """)
        #expect(table["a"]?.string == "one\ntwo")
        #expect(table["b"]?.string == "joined together")
        #expect(table["c"]?.string == "raw \\n text")
        #expect(table["d"]?.string == "ends with a quote\"")
    }

    @Test("integers: separators, signs, other bases")
    func integers() throws {
        let table = try parse("""
        a = 2_000_000
        b = -42
        c = +7
        d = 0
        e = 0xFF
        f = 0o17
        g = 0b101
        h = 9_223_372_036_854_775_807
        """)
        #expect(table["a"]?.kind == .integer(2_000_000))
        #expect(table["b"]?.kind == .integer(-42))
        #expect(table["c"]?.kind == .integer(7))
        #expect(table["d"]?.kind == .integer(0))
        #expect(table["e"]?.kind == .integer(255))
        #expect(table["f"]?.kind == .integer(15))
        #expect(table["g"]?.kind == .integer(5))
        #expect(table["h"]?.kind == .integer(Int64.max))
    }

    @Test("decimals keep their exact source text, never a binary float")
    func decimalsAreExact() throws {
        let table = try parse("""
        a = 0.1
        b = -0.25
        c = +1.50
        d = 1_000.000_1
        e = 0.100000000000000000001
        """)
        #expect(table["a"]?.kind == .decimal("0.1"))
        #expect(table["b"]?.kind == .decimal("-0.25"))
        #expect(table["c"]?.kind == .decimal("1.50"))
        #expect(table["d"]?.kind == .decimal("1000.0001"))
        #expect(table["e"]?.kind == .decimal("0.100000000000000000001"))
    }

    @Test("booleans")
    func booleans() throws {
        let table = try parse("yes = true\nno = false")
        #expect(table["yes"]?.kind == .boolean(true))
        #expect(table["no"]?.kind == .boolean(false))
    }

    // MARK: - Structure

    @Test("comments everywhere, blank lines, CRLF line endings")
    func commentsAndLineEndings() throws {
        let table = try parse("# header\r\n\r\na = 1 # trailing\r\n  # indented\r\n[t] # after header\r\nb = \"#not a comment\"\r\n")
        #expect(table["a"]?.kind == .integer(1))
        #expect(table["t"]?.table?["b"]?.string == "#not a comment")
        #expect(table["t"]?.table?["b"]?.line == 6)
    }

    @Test("tables, nested tables and arrays of tables")
    func tables() throws {
        let table = try parse("""
        top = 1
        [a]
        x = 1
        [a.b]
        y = 2
        [[item]]
        name = "one"
        [item.detail]
        z = 3
        [[item]]
        name = "two"
        """)
        #expect(table.keys == ["top", "a", "item"])
        #expect(table["a"]?.table?["b"]?.table?["y"]?.kind == .integer(2))
        let items = try #require(table["item"]?.array)
        #expect(table["item"]?.isArrayOfTables == true)
        #expect(items.count == 2)
        #expect(items[0].table?["name"]?.string == "one")
        #expect(items[0].table?["detail"]?.table?["z"]?.kind == .integer(3))
        #expect(items[1].table?["name"]?.string == "two")
        #expect(items[1].table?["detail"] == nil)
        #expect(items[1].line == 10)
    }

    @Test("an implicit table may be defined later")
    func implicitThenExplicit() throws {
        let table = try parse("[a.b]\nx = 1\n[a]\ny = 2")
        #expect(table["a"]?.table?["y"]?.kind == .integer(2))
        #expect(table["a"]?.table?["b"]?.table?["x"]?.kind == .integer(1))
    }

    @Test("quoted and dotted keys")
    func keys() throws {
        let table = try parse("""
        "quoted key" = 1
        'literal.key' = 2
        site.name = "x"
        site . port = 80
        """)
        #expect(table["quoted key"]?.kind == .integer(1))
        #expect(table["literal.key"]?.kind == .integer(2))
        #expect(table["site"]?.table?["name"]?.string == "x")
        #expect(table["site"]?.table?["port"]?.kind == .integer(80))
    }

    @Test("arrays: multi-line, trailing comma, comments inside, nested, mixed")
    func arrays() throws {
        let table = try parse("""
        a = [
          1,   # first
          2,
          # a comment line
          3,
        ]
        b = []
        c = [[1, 2], ["x"]]
        d = [ 0.5, 1 ]
        """)
        let a = try #require(table["a"]?.array)
        #expect(a.map(\.kind) == [.integer(1), .integer(2), .integer(3)])
        #expect(a.map(\.line) == [2, 3, 5])
        #expect(table["b"]?.array?.isEmpty == true)
        #expect(table["c"]?.array?[1].array?[0].string == "x")
        #expect(table["d"]?.array?.map(\.kind) == [.decimal("0.5"), .integer(1)])
    }

    @Test("inline tables, including an array of them")
    func inlineTables() throws {
        let table = try parse("""
        point = { x = 1, y = 2.5, label.text = "p" }
        empty = {}
        list = [ { name = "a" }, { name = "b" } ]
        """)
        #expect(table["point"]?.table?["y"]?.kind == .decimal("2.5"))
        #expect(table["point"]?.table?["label"]?.table?["text"]?.string == "p")
        #expect(table["empty"]?.table?.entries.isEmpty == true)
        #expect(table["list"]?.array?.compactMap { $0.table?["name"]?.string } == ["a", "b"])
    }

    @Test("every key and value remembers its 1-based line")
    func lineNumbers() throws {
        let table = try parse("\n\nname = \"x\"\n\n[t]\n\nvalue = [\n 1,\n 2\n]\n")
        #expect(table.entry("name")?.keyLine == 3)
        #expect(table["name"]?.line == 3)
        #expect(table["t"]?.table?.line == 5)
        #expect(table["t"]?.table?.entry("value")?.keyLine == 7)
        #expect(table["t"]?.table?["value"]?.array?.map(\.line) == [8, 9])
    }

    @Test("a single value literal parses on its own")
    func standaloneValues() throws {
        #expect(try TOML.parseValue("0.5").kind == .decimal("0.5"))
        #expect(try TOML.parseValue("  \"cex\" ").kind == .string("cex"))
        #expect(try TOML.parseValue("[1, 2]").array?.count == 2)
        #expect(throws: TOMLError.self) { try TOML.parseValue("pnl-pro-rata") }
        #expect(throws: TOMLError.self) { try TOML.parseValue("1 2") }
    }

    // MARK: - Errors

    @Test("duplicate keys are errors on the second line, naming the first")
    func duplicateKey() {
        let failure = error("a = 1\nb = 2\na = 3")
        #expect(failure?.line == 3)
        #expect(failure?.message.contains("duplicate key \"a\" (first defined on line 1)") == true)
    }

    @Test("redefined tables are errors", arguments: [
        ("[a]\nx = 1\n[a]", 3, "defined twice"),
        ("[a]\n[[a]]", 2, "already a table"),
        ("[[a]]\n[a]", 2, "already an array of tables"),
        ("a = 1\n[a]", 2, "already an integer"),
        ("a.b = 1\n[a]", 2, "dotted keys"),
        ("a = { b = 1 }\n[a.c]", 2, "inline table"),
        ("a = { b = 1 }\na.c = 2", 2, "already a table"),
        ("[a]\nb = 1\n[a.b]", 3, "already an integer"),
    ])
    func redefinedTables(document: String, line: Int, fragment: String) {
        let failure = error(document)
        #expect(failure?.line == line)
        #expect(failure?.message.contains(fragment) == true, "\(failure?.message ?? "no error")")
    }

    @Test("numbers that cannot stay exact or are malformed are rejected with a reason", arguments: [
        ("x = 1e6", "exponent notation is not supported"),
        ("x = 2.5E-3", "exponent notation is not supported"),
        ("x = inf", "must be finite"),
        ("x = -nan", "must be finite"),
        ("x = 007", "leading zeros"),
        ("x = 1.", "digits on both sides"),
        ("x = .5", "digits on both sides"),
        ("x = 1__000", "underscores"),
        ("x = _1", "expected a value"),
        ("x = 99999999999999999999", "does not fit in 64 bits"),
        ("x = 1979-05-27", "dates and times"),
        ("x = 07:32:00", "dates and times"),
        ("x = cex", "strings need quotes: \"cex\""),
        ("x = +0x10", "sign is not allowed"),
    ])
    func badNumbers(document: String, fragment: String) {
        let failure = error(document)
        #expect(failure?.line == 1)
        #expect(failure?.message.contains(fragment) == true, "\(failure?.message ?? "no error")")
    }

    @Test("syntax errors carry the line and say what was expected", arguments: [
        ("a = \"open", 1, "unterminated string"),
        ("a = \"bad \\q escape\"", 1, "invalid escape \\q"),
        ("\n\nname \"x\"", 3, "expected \"=\""),
        ("a = 1 b = 2", 1, "expected the end of the line"),
        ("a = [1, 2", 1, "unterminated array"),
        ("a = [1 2]", 1, "expected \",\" or \"]\""),
        ("a = { b = 1", 1, "unterminated inline table"),
        ("[a", 1, "to close the table header"),
        ("[[a]\n", 1, "\"]]\""),
        ("a =", 1, "expected a value"),
        ("= 1", 1, "expected a key"),
        ("a = 'x\ny'", 1, "must end on its line"),
        ("a = \"\u{07}\"", 1, "control character U+0007"),
    ])
    func syntaxErrors(document: String, line: Int, fragment: String) {
        let failure = error(document)
        #expect(failure?.line == line)
        #expect(failure?.message.contains(fragment) == true, "\(failure?.message ?? "no error")")
    }

    @Test("an error in a multi-line array names the element's line")
    func errorInsideMultilineArray() {
        let failure = error("a = [\n  1,\n  2e3,\n]")
        #expect(failure?.line == 3)
    }

    @Test("error description includes the line")
    func errorDescription() {
        #expect(TOMLError(line: 4, message: "boom").description == "line 4: boom")
    }
}
