import CrossclearStore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment variable that turns this test binary into the writer child of `killedWriter`.
private let childJournalVariable = "CROSSCLEAR_STORE_KILL_CHILD_JOURNAL"
private let batchSize = 100

/// The test binary, when it is a plain executable we can run again as a child (Linux's
/// `<package>PackageTests.xctest`).
private var testBinary: String? {
    let path = ProcessInfo.processInfo.arguments.first ?? ""
    var isDirectory: ObjCBool = false
    guard path.hasSuffix(".xctest"), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        !isDirectory.boolValue, FileManager.default.isExecutableFile(atPath: path)
    else { return nil }
    return path
}

@Suite("kill -9 of a writing process")
struct KillTests {
    /// The parent: runs this binary as a child that appends batches (with a cursor, atomically)
    /// and prints "ACK <sequence>" after each commit; kills it with SIGKILL mid-stream; reopens.
    @Test(
        "everything acknowledged before kill -9 survives; the batch in flight is all or nothing",
        .enabled(if: testBinary != nil, "needs the test binary as a plain executable"),
        .timeLimit(.minutes(1))
    )
    func killedWriter() throws {
        let binary = try #require(testBinary)
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let child = Process()
            child.executableURL = URL(fileURLWithPath: binary)
            child.arguments = ["--testing-library", "swift-testing", "--filter", "writerChild"]
            var environment = ProcessInfo.processInfo.environment
            environment[childJournalVariable] = path
            child.environment = environment
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Never wait forever: a child that hangs is killed (the test then fails below).
            let watchdog = DispatchWorkItem { kill(child.processIdentifier, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)

            var acknowledged: Int64 = 0
            var buffer = ""
            reading: while true {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }  // EOF: the child died
                buffer += String(decoding: data, as: UTF8.self)
                while let newline = buffer.firstIndex(of: "\n") {
                    let line = buffer[..<newline]
                    buffer = String(buffer[buffer.index(after: newline)...])
                    if line.hasPrefix("ACK "), let sequence = Int64(line.dropFirst(4)) {
                        acknowledged = sequence
                        if acknowledged >= 30 * Int64(batchSize) {
                            kill(child.processIdentifier, SIGKILL)
                            break reading
                        }
                    }
                }
            }
            child.waitUntilExit()
            watchdog.cancel()
            #expect(child.terminationReason == .uncaughtSignal)
            #expect(acknowledged >= 30 * Int64(batchSize))

            // The lock died with the child; the file opens, passes the integrity check, and holds
            // at least everything acknowledged, chained, with the cursor committed alongside.
            let journal = try Journal.open(path: path)
            let head = try #require(try journal.last(stream: "killed"))
            #expect(head.sequence >= acknowledged)
            #expect(head.sequence % Int64(batchSize) == 0)
            #expect(try journal.cursor("acknowledged") == head.sequence)
            let entries = try journal.entries(stream: "killed", after: nil, limit: Int(head.sequence) + 1)
            #expect(entries.map(\.sequence) == Array(1...head.sequence))
            #expect(entries.first?.previousHash == JournalEntry.genesisHash)
            for (previous, entry) in zip(entries, entries.dropFirst()) where entry.previousHash != previous.hash {
                Issue.record("chain broken at \(entry.position)")
                break
            }
            try journal.close()
        }
    }

    /// The child: appends until killed. Enabled only in the child process.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childJournalVariable] != nil))
    func writerChild() throws {
        let path = try #require(ProcessInfo.processInfo.environment[childJournalVariable])
        let journal = try Journal.open(path: path)
        var writer = ChainWriter(stream: "killed")
        while true {
            let batch = writer.next(batchSize)
            _ = try journal.append(batch, settingCursors: ["acknowledged": writer.sequence])
            FileHandle.standardOutput.write(Data("ACK \(writer.sequence)\n".utf8))
        }
    }
}
