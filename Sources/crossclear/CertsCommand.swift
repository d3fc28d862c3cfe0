import ArgumentParser
import CrossclearNode
import Foundation

/// `crossclear certs`: the cluster's local certificate authority and one certificate per node.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create the cluster's certificate authority and a certificate for every node.",
        discussion: """
            Reads the cluster file, creates a certificate authority in <state_dir>/certs (or loads the \
            one already there) and issues a certificate for the clearing node and each venue, naming \
            the host it is reached at. Every connection in the cluster is mutual TLS under this CA; \
            there is no plaintext mode. Run it again to re-issue the node certificates (rotation). \
            Keys are written with mode 0600. See Docs/security.md.
            """)

    @Option(name: .long, help: "The cluster file.")
    var cluster = "cluster/demo.toml"

    func run() throws {
        let file = try ClusterFile.load(path: cluster)
        let result = try file.issueCertificates()
        let directory = file.certificates
        print("\(result.createdAuthority ? "created" : "using existing") certificate authority: \(directory.caCertificatePath)")
        for credentials in result.nodes {
            print("  \(credentials.node.name): \(directory.certificatePath(for: credentials.node)) (valid until \(credentials.certificate.notValidAfter))")
        }
    }
}
