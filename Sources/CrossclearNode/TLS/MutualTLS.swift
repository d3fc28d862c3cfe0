import Logging
import NIOCore
import NIOSSL
import X509

/// Mutually authenticated TLS between crossclear nodes: every connection, both directions, no plaintext.
///
/// Both contexts present this node's certificate and trust only the cluster CA (TLS 1.3). The server
/// context requires a client certificate; the client context checks that the server's certificate names
/// the host it dialed. Chains are verified per connection by ``ClusterTrust`` (swift-certificates), and
/// ``PeerAuthenticationHandler`` then checks which node the certificate names.
///
/// ```swift
/// let tls = try MutualTLS(credentials: NodeCredentials.load(node: .clearing, from: certs))
/// ServerBootstrap(group: group).childChannelInitializer { channel in
///     channel.eventLoop.makeCompletedFuture {
///         try tls.addServerHandlers(to: channel.pipeline.syncOperations,
///                                   accepting: .anyOf(venues), logger: logger)
///         try channel.pipeline.syncOperations.addHandler(MyGossipHandler())
///     }
/// }
/// ```
public struct MutualTLS: Sendable {
    /// This node's certificate, key and the cluster CA.
    public let credentials: NodeCredentials
    /// For accepted connections: presents this node's certificate, requires and verifies the client's.
    public let serverContext: NIOSSLContext
    /// For dialed connections: presents this node's certificate, verifies the server's and its host name.
    public let clientContext: NIOSSLContext

    /// Builds both TLS contexts from `credentials`.
    ///
    /// - Throws: ``MutualTLSError/invalidCredentials(_:)`` when NIOSSL refuses the certificate or key.
    public init(credentials: NodeCredentials) throws(MutualTLSError) {
        self.credentials = credentials
        do {
            self.serverContext = try NIOSSLContext(configuration: Self.makeServerConfiguration(credentials))
            self.clientContext = try NIOSSLContext(configuration: Self.makeClientConfiguration(credentials))
        } catch let error as MutualTLSError {
            throw error
        } catch {
            throw MutualTLSError.invalidCredentials(String(describing: error))
        }
    }

    // MARK: - Configurations

    /// The server configuration: this node's certificate, client certificates required, only the
    /// cluster CA trusted, TLS 1.3.
    public static func makeServerConfiguration(_ credentials: NodeCredentials) throws -> TLSConfiguration {
        let material = try NIOSSLMaterial(credentials)
        var configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: [.certificate(material.certificate)],
            privateKey: .privateKey(material.privateKey),
            trustRoots: .certificates([material.caCertificate])
        )
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv13
        return configuration
    }

    /// The client configuration: this node's certificate, the server's certificate verified against the
    /// cluster CA only and against the dialed host name, TLS 1.3.
    public static func makeClientConfiguration(_ credentials: NodeCredentials) throws -> TLSConfiguration {
        let material = try NIOSSLMaterial(credentials)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = [.certificate(material.certificate)]
        configuration.privateKey = .privateKey(material.privateKey)
        configuration.trustRoots = .certificates([material.caCertificate])
        configuration.additionalTrustRoots = []
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv13
        return configuration
    }

    // MARK: - Pipelines

    /// Adds the TLS server handler and a ``PeerAuthenticationHandler`` to an accepted channel's pipeline.
    ///
    /// Handlers added after these see ``PeerAuthenticated`` once the client is known to be an allowed node.
    ///
    /// - Parameters:
    ///   - pipeline: The accepted channel's pipeline; call on its event loop (as in a child channel initializer).
    ///   - authorization: The nodes that may connect (for the clearing node: the cluster's venues).
    ///   - logger: Where acceptances and rejections are logged.
    public func addServerHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        accepting authorization: PeerAuthorization,
        logger: Logger
    ) throws {
        let record = PeerVerificationRecord()
        let tls = NIOSSLServerHandler(
            context: serverContext,
            customVerificationCallbackWithMetadata: Self.verificationCallback(
                ca: credentials.caCertificate, requiredUsage: .clientAuth, record: record)
        )
        let authentication = PeerAuthenticationHandler(
            side: .server, authorization: authorization, logger: logger, dialedHost: nil,
            verification: record, peerChain: PeerAuthenticationHandler.validatedChainFromPipeline)
        try pipeline.addHandler(tls)
        try pipeline.addHandler(authentication)
    }

    /// Adds the TLS client handler and a ``PeerAuthenticationHandler`` to a dialing channel's pipeline.
    ///
    /// - Parameters:
    ///   - pipeline: The dialing channel's pipeline; call on its event loop (as in a channel initializer).
    ///   - host: The host being dialed, exactly as passed to `connect`: an IP literal is checked against the
    ///     certificate's IP addresses, a DNS name against its DNS names (and sent as SNI).
    ///   - authorization: The nodes allowed at the other end; venues dial the clearing node only.
    ///   - logger: Where acceptances and rejections are logged.
    public func addClientHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        dialing host: String,
        accepting authorization: PeerAuthorization = .clearingNode,
        logger: Logger
    ) throws {
        let record = PeerVerificationRecord()
        // NIOSSL validates against the connected IP address when no server name is given, and SNI must not
        // carry an IP literal.
        let serverHostname: String? = HostName.isIPAddress(host) ? nil : host
        let tls: NIOSSLClientHandler
        do {
            tls = try NIOSSLClientHandler(
                context: clientContext,
                serverHostname: serverHostname,
                customVerificationCallbackWithMetadata: Self.verificationCallback(
                    ca: credentials.caCertificate, requiredUsage: .serverAuth, record: record)
            )
        } catch {
            throw MutualTLSError.invalidHost(host, String(describing: error))
        }
        let authentication = PeerAuthenticationHandler(
            side: .client, authorization: authorization, logger: logger, dialedHost: host,
            verification: record, peerChain: PeerAuthenticationHandler.validatedChainFromPipeline)
        try pipeline.addHandler(tls)
        try pipeline.addHandler(authentication)
    }

    // MARK: - Verification

    /// The per-connection verification callback: decodes the peer's chain, verifies it with
    /// ``ClusterTrust`` off the event loop, and answers NIOSSL with the validated chain or a failure
    /// (leaving the reason in `record`).
    static func verificationCallback(
        ca: Certificate, requiredUsage: ClusterTrust.RequiredUsage, record: PeerVerificationRecord
    ) -> NIOSSLCustomVerificationCallbackWithMetadata {
        { peerChain, promise in
            let chain: [Certificate]
            do {
                chain = try peerChain.map { try Certificate(derEncoded: $0.toDERBytes()) }
            } catch {
                record.rejection = .unreadableCertificate(String(describing: error))
                promise.succeed(.failed)
                return
            }
            let eventLoop = promise.futureResult.eventLoop
            eventLoop.makeFutureWithTask {
                await ClusterTrust.verify(chain: chain, trusting: ca, requiredUsage: requiredUsage)
            }
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(.success(let validated)):
                    do {
                        // NIOSSL keeps the validated chain in its own certificate type.
                        let converted = try validated.map {
                            try NIOSSLCertificate(bytes: $0.serializeAsPEM().derBytes, format: .der)
                        }
                        promise.succeed(
                            .certificateVerified(VerificationMetadata(NIOSSL.ValidatedCertificateChain(converted))))
                    } catch {
                        record.rejection = .unreadableCertificate(String(describing: error))
                        promise.succeed(.failed)
                    }
                case .success(.failure(let rejection)):
                    record.rejection = rejection
                    promise.succeed(.failed)
                case .failure(let error):
                    record.rejection = .invalidChain(String(describing: error))
                    promise.succeed(.failed)
                }
            }
        }
    }
}

/// Why mutual TLS could not be set up.
public enum MutualTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// NIOSSL refused this node's certificate, key or CA certificate; the detail comes from NIOSSL.
    case invalidCredentials(String)
    /// The host to dial cannot be used as a TLS server name; the detail comes from NIOSSL.
    case invalidHost(String, String)

    public var description: String {
        switch self {
        case .invalidCredentials(let detail): "cannot use the node credentials for TLS: \(detail)"
        case .invalidHost(let host, let detail): "cannot dial '\(host)' over TLS: \(detail)"
        }
    }
}

/// The credentials converted to NIOSSL's types.
private struct NIOSSLMaterial {
    let certificate: NIOSSLCertificate
    let privateKey: NIOSSLPrivateKey
    let caCertificate: NIOSSLCertificate

    init(_ credentials: NodeCredentials) throws(MutualTLSError) {
        do {
            certificate = try NIOSSLCertificate(
                bytes: Array(credentials.certificate.serializeAsPEM().pemString.utf8), format: .pem)
            privateKey = try NIOSSLPrivateKey(bytes: Array(credentials.privateKeyPEM.utf8), format: .pem)
            caCertificate = try NIOSSLCertificate(
                bytes: Array(credentials.caCertificate.serializeAsPEM().pemString.utf8), format: .pem)
        } catch {
            throw MutualTLSError.invalidCredentials(String(describing: error))
        }
    }
}
