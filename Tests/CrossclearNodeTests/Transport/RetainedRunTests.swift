import CrossclearWire
import Testing

@testable import CrossclearNode

/// The in-memory copy of journaled, unacknowledged elements (here a venue link's changes).
@Suite("Transport: retained runs")
struct RetainedRunTests {
    @Test("consecutive publishes extend the run; the changes after a sequence come back in order, limited")
    func extendAndRead() throws {
        let changes = try chainedChanges(100)
        var retained = RetainedRun<Change>(limit: 1_000)
        retained.append(Array(changes[0..<40]))
        retained.append(Array(changes[40..<100]))
        #expect(retained.sequences == 1...100)
        #expect(retained.elements(after: 0, maximumCount: 1_000) == changes)
        #expect(retained.elements(after: 37, maximumCount: 5) == Array(changes[37..<42]))
        #expect(retained.elements(after: 98, maximumCount: 5) == Array(changes[98...]))
        #expect(retained.elements(after: 100, maximumCount: 5).isEmpty)
        #expect(retained.elements(after: 90, maximumCount: .max) == Array(changes[90...]), "no limit")
    }

    @Test("a publish that does not follow the run replaces it; sequences it does not hold read as nothing")
    func replaceWhenNotConsecutive() throws {
        let changes = try chainedChanges(100)
        var retained = RetainedRun<Change>(limit: 1_000)
        retained.append(Array(changes[0..<10]))
        retained.append(Array(changes[50..<60]))
        #expect(retained.sequences == 51...60)
        #expect(retained.elements(after: 5, maximumCount: 10).isEmpty)
        #expect(retained.elements(after: 49, maximumCount: 10).isEmpty)
        #expect(retained.elements(after: 50, maximumCount: 10) == Array(changes[50..<60]))
    }

    @Test("the limit keeps the newest changes; a limit of 0 keeps none")
    func limitKeepsNewest() throws {
        let changes = try chainedChanges(100)
        var retained = RetainedRun<Change>(limit: 30)
        retained.append(Array(changes[0..<20]))
        retained.append(Array(changes[20..<45]))
        #expect(retained.sequences == 16...45)
        #expect(retained.count == 30)
        #expect(retained.elements(after: 15, maximumCount: 100) == Array(changes[15..<45]))
        #expect(retained.elements(after: 14, maximumCount: 100).isEmpty)

        var none = RetainedRun<Change>(limit: 0)
        none.append(changes)
        #expect(none.sequences == nil)
    }

    @Test("acknowledged changes are dropped, also past the end of the run")
    func dropAcknowledged() throws {
        let changes = try chainedChanges(100)
        var retained = RetainedRun<Change>(limit: 1_000)
        retained.append(changes)
        retained.drop(through: 0)
        #expect(retained.sequences == 1...100)
        for (through, expected) in [(10, 11...100), (70, 71...100), (70, 71...100)] as [(UInt64, ClosedRange<UInt64>)] {
            retained.drop(through: through)
            #expect(retained.sequences == expected)
            #expect(retained.elements(after: through, maximumCount: 1_000) == Array(changes[Int(through)...]))
        }
        retained.append(Array(changes[0..<0]))
        #expect(retained.count == 30)
        retained.drop(through: 500)
        #expect(retained.sequences == nil)
        retained.append(Array(changes[90..<100]))
        #expect(retained.sequences == 91...100)
    }
}
