import ServiceLifecycle

/// Runs `body` until it returns or the service group shuts down gracefully (SIGTERM, SIGINT); the
/// cancellation that ends it then is a normal stop, not an error.
func untilShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown { try await body() }
    } catch is CancellationError {
        return
    }
}
