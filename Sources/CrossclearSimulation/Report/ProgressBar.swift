// A progress indicator on stderr for long runs and sweeps. Wall time is used for display only.

import Foundation
import Synchronization

/// Shows the progress of a counted job on stderr. Safe to advance from several tasks at once.
///
/// On a terminal it redraws one line, at most ten times a second:
/// `label [########............] 45% 450/1000 12.3s`. When stderr is not a terminal (a log file,
/// CI) it prints a plain line at each 10% step instead.
public final class ProgressBar: Sendable {
    private struct State {
        var done = 0
        var lastDraw: ContinuousClock.Instant?
        var lastTenth = 0
        var finished = false
    }

    private static let barWidth = 20
    private static let redrawInterval = Duration.milliseconds(100)

    private let total: Int
    private let label: String
    private let isTerminal: Bool
    private let output: @Sendable (String) -> Void
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let state = Mutex(State())

    /// A bar for `total` units of work, drawn on stderr.
    public convenience init(total: Int, label: String) {
        self.init(total: total, label: label, isTerminal: isatty(STDERR_FILENO) == 1) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// A bar writing to `output`, as on a terminal or not (for tests).
    init(total: Int, label: String, isTerminal: Bool, output: @escaping @Sendable (String) -> Void) {
        self.total = max(total, 0)
        self.label = label
        self.isTerminal = isTerminal
        self.output = output
        self.start = clock.now
    }

    /// Records `count` more units done and redraws if it is time to.
    public func advance(by count: Int = 1) {
        let now = clock.now
        state.withLock { state in
            guard !state.finished else { return }
            state.done = min(max(state.done + count, 0), total)
            if let text = render(&state, now: now, final: false) { output(text) }
        }
    }

    /// Shows the bar complete and ends its line. Later calls do nothing.
    public func finish() {
        let now = clock.now
        state.withLock { state in
            guard !state.finished else { return }
            state.done = total
            state.finished = true
            if let text = render(&state, now: now, final: true) { output(text) }
        }
    }

    /// The text to write now, if any, updating the state's record of what was shown. Called under the
    /// lock, so lines come out in order.
    private func render(_ state: inout State, now: ContinuousClock.Instant, final: Bool) -> String? {
        let percent = total == 0 ? 100 : state.done * 100 / total
        let elapsed = now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let counts = "\(percent)% \(state.done)/\(total) \(DisplayNumber.fixed(seconds, digits: 1))s"
        if isTerminal {
            if !final, let last = state.lastDraw, now - last < Self.redrawInterval { return nil }
            state.lastDraw = now
            let filled = total == 0 ? Self.barWidth : state.done * Self.barWidth / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: Self.barWidth - filled)
            return "\r\(label) [\(bar)] \(counts)" + (final ? "\n" : "")
        }
        let tenth = percent / 10
        guard tenth > state.lastTenth else { return nil }
        state.lastTenth = tenth
        return "\(label) \(counts)\n"
    }
}
