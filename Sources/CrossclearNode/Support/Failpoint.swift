import Foundation

/// Crash points for chaos tests: a node started with `CROSSCLEAR_FAILPOINT=NAME` kills itself with
/// SIGKILL when it first reaches the point NAME, so a test can `kill -9` it at an exact durable
/// boundary instead of at a lucky moment. Unset (always, outside tests), reaching a point does nothing.
public enum Failpoint: String, Sendable, CaseIterable {
    /// The clearing node decided an ADL round; nothing of it is journaled yet.
    case adlRoundDecided = "adl-round-decided"
    /// The clearing node journaled an ADL round's instructions and handed them to the connections;
    /// none is acknowledged yet.
    case adlRoundJournaled = "adl-round-journaled"

    /// The environment variable that arms a point.
    public static let variable = "CROSSCLEAR_FAILPOINT"

    private static let armed = ProcessInfo.processInfo.environment[variable].flatMap(Failpoint.init(rawValue:))

    /// Kills this process with SIGKILL if `point` is armed.
    static func reach(_ point: Failpoint) {
        guard armed == point else { return }
        kill(getpid(), SIGKILL)
    }
}
