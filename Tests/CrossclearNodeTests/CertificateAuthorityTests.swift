import Foundation
import Testing
import X509

@testable import CrossclearNode

@Suite("Certificate authority files")
struct CertificateAuthorityTests {
    @Test("create, persist and load back the CA and a node's credentials; keys are 0600")
    func persistenceRoundTrip() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            let created = try CertificateAuthority.create(in: certs)
            #expect(certs.path == state + "/certs")
            #expect(created.directory == certs)

            // The CA is a CA, lives about ten years, and comes back identical.
            #expect(try created.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
            let lifetime = created.certificate.notValidAfter.timeIntervalSince(created.certificate.notValidBefore)
            #expect(abs(lifetime - (3650 * 86_400 + 300)) < 5)
            let loaded = try CertificateAuthority.load(from: certs)
            #expect(loaded.certificate == created.certificate)
            #expect(loaded.privateKey.rawRepresentation == created.privateKey.rawRepresentation)

            // Issue from the loaded CA: files appear under the file-safe name.
            let venue = try NodeIdentity.venue("hyperliquid")
            let issued = try loaded.issue(node: venue, hosts: ["127.0.0.1", "localhost"])
            #expect(FileManager.default.fileExists(atPath: state + "/certs/venue-hyperliquid.pem"))
            #expect(FileManager.default.fileExists(atPath: state + "/certs/venue-hyperliquid-key.pem"))
            let leafLifetime = issued.certificate.notValidAfter.timeIntervalSince(issued.certificate.notValidBefore)
            #expect(abs(leafLifetime - (365 * 86_400 + 300)) < 5)

            let credentials = try NodeCredentials.load(node: venue, from: certs)
            #expect(credentials.certificate == issued.certificate)
            #expect(credentials.caCertificate == created.certificate)
            #expect(credentials.privateKeyPEM == issued.privateKeyPEM)

            // Permissions: keys 0600, certificates 0644, folder 0700.
            #expect(try PEMFile.permissions(at: certs.caKeyPath) == 0o600)
            #expect(try PEMFile.permissions(at: certs.keyPath(for: venue)) == 0o600)
            #expect(try PEMFile.permissions(at: certs.caCertificatePath) == 0o644)
            #expect(try PEMFile.permissions(at: certs.path) == 0o700)

            // No temporary files are left behind.
            let files = try FileManager.default.contentsOfDirectory(atPath: certs.path).sorted()
            #expect(files == ["ca-key.pem", "ca.pem", "venue-hyperliquid-key.pem", "venue-hyperliquid.pem"])

            // Re-issuing (rotation) replaces the files with a new key.
            let reissued = try loaded.issue(node: venue, hosts: ["127.0.0.1"])
            let reloaded = try NodeCredentials.load(node: venue, from: certs)
            #expect(reloaded.certificate == reissued.certificate)
            #expect(reloaded.certificate != issued.certificate)
            #expect(try PEMFile.permissions(at: certs.keyPath(for: venue)) == 0o600)
        }
    }

    @Test("creating a CA never replaces an existing one; loadOrCreate reuses it")
    func createRefusesOverwrite() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            let first = try CertificateAuthority.create(in: certs)
            #expect(throws: CertificateFileError(path: certs.caCertificatePath, problem: .alreadyExists)) {
                try CertificateAuthority.create(in: certs)
            }
            #expect(try CertificateAuthority.loadOrCreate(in: certs).certificate == first.certificate)
        }
    }

    @Test("a corrupted or wrong PEM file gives an error naming the file and the cause")
    func corruptedFiles() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            let ca = try CertificateAuthority.create(in: certs)
            let original = try String(contentsOfFile: certs.caCertificatePath, encoding: .utf8)

            // Not PEM at all.
            try "hello, this is not a certificate\n".write(
                toFile: certs.caCertificatePath, atomically: true, encoding: .utf8)
            let notPEM = #expect(throws: CertificateFileError.self) { try CertificateAuthority.load(from: certs) }
            #expect(notPEM == CertificateFileError(path: certs.caCertificatePath, problem: .notPEM))
            #expect(notPEM?.description.hasPrefix(certs.caCertificatePath + ": not a PEM file") == true)

            // PEM armour around garbage.
            let garbled = original.replacingOccurrences(of: "MII", with: "AAA")
                .split(separator: "\n").enumerated()
                .map { $0.offset == 2 ? String(repeating: "A", count: 64) : String($0.element) }
                .joined(separator: "\n")
            try garbled.write(toFile: certs.caCertificatePath, atomically: true, encoding: .utf8)
            let invalid = #expect(throws: CertificateFileError.self) { try CertificateAuthority.load(from: certs) }
            #expect(invalid?.path == certs.caCertificatePath)
            if case .invalidContent = invalid?.problem {
            } else {
                Issue.record("expected invalidContent, got \(String(describing: invalid))")
            }

            // A key where the certificate belongs.
            let key = try String(contentsOfFile: certs.caKeyPath, encoding: .utf8)
            try key.write(toFile: certs.caCertificatePath, atomically: true, encoding: .utf8)
            let wrongType = #expect(throws: CertificateFileError.self) { try CertificateAuthority.load(from: certs) }
            #expect(wrongType?.path == certs.caCertificatePath)
            #expect(wrongType?.problem == .wrongPEMType(found: "PRIVATE KEY", expected: "CERTIFICATE"))

            // Missing.
            try FileManager.default.removeItem(atPath: certs.caCertificatePath)
            #expect(throws: CertificateFileError(path: certs.caCertificatePath, problem: .missing)) {
                try CertificateAuthority.load(from: certs)
            }

            // Restore; then a key that does not belong to the certificate.
            try ca.save(to: certs)
            let other = try CertificateAuthority.generate()
            try PEMFile.writePrivateKey(other.privateKey, to: certs.caKeyPath)
            #expect(
                throws: CertificateFileError(
                    path: certs.caKeyPath,
                    problem: .keyDoesNotMatchCertificate(certificatePath: certs.caCertificatePath))
            ) {
                try CertificateAuthority.load(from: certs)
            }
        }
    }

    @Test("a key readable by others is refused")
    func insecureKeyPermissions() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            _ = try CertificateAuthority.create(in: certs)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: certs.caKeyPath)
            #expect(throws: CertificateFileError(path: certs.caKeyPath, problem: .insecurePermissions(mode: 0o644))) {
                try CertificateAuthority.load(from: certs)
            }
        }
    }

    @Test("expired node certificates, foreign CAs and swapped keys are refused on load")
    func nodeCredentialChecks() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            let twoYearsAgo = Date().addingTimeInterval(-2 * 365 * 86_400)
            let ca = try CertificateAuthority.create(in: certs, now: twoYearsAgo)
            let venue = try NodeIdentity.venue("dydx")

            // Issued two years ago for one year: expired now.
            let expired = try ca.issue(node: venue, hosts: ["127.0.0.1"], now: twoYearsAgo)
            let error = #expect(throws: CertificateFileError.self) {
                try NodeCredentials.load(node: venue, from: certs)
            }
            #expect(
                error
                    == CertificateFileError(
                        path: certs.certificatePath(for: venue),
                        problem: .expired(notValidAfter: expired.certificate.notValidAfter)))
            #expect(error?.description.contains("certificate expired at") == true)

            // A certificate from another CA in this folder.
            let foreign = try CertificateAuthority.generate().issue(node: venue, hosts: ["127.0.0.1"])
            try PEMFile.writeCertificate(foreign.certificate, to: certs.certificatePath(for: venue))
            #expect(
                throws: CertificateFileError(
                    path: certs.certificatePath(for: venue),
                    problem: .notSignedByClusterCA(caPath: certs.caCertificatePath))
            ) {
                try NodeCredentials.load(node: venue, from: certs)
            }

            // A valid certificate loaded under another node's name.
            try ca.issue(node: .clearing, hosts: ["127.0.0.1"])
            try FileManager.default.copyItem(
                atPath: certs.certificatePath(for: .clearing), toPath: certs.certificatePath(for: try .venue("okx")))
            let wrongNode = #expect(throws: CertificateFileError.self) {
                try NodeCredentials.load(node: try .venue("okx"), from: certs)
            }
            #expect(wrongNode?.problem == .namesWrongNode(expected: try .venue("okx"), found: "clearing"))

            // The right certificate with another node's key.
            try ca.issue(node: venue, hosts: ["127.0.0.1"])
            try PEMFile.writePrivateKey(foreign.privateKey, to: certs.keyPath(for: venue))
            #expect(
                throws: CertificateFileError(
                    path: certs.keyPath(for: venue),
                    problem: .keyDoesNotMatchCertificate(certificatePath: certs.certificatePath(for: venue)))
            ) {
                try NodeCredentials.load(node: venue, from: certs)
            }
        }
    }

    @Test("an expired CA is refused on load, and certificates never outlive their CA")
    func caExpiry() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            let ca = try CertificateAuthority.create(in: certs, validity: .seconds(3600))
            let node = try ca.issue(node: .clearing, hosts: ["127.0.0.1"])
            #expect(node.certificate.notValidAfter == ca.certificate.notValidAfter)

            let later = Date().addingTimeInterval(7200)
            #expect(
                throws: CertificateFileError(
                    path: certs.caCertificatePath, problem: .expired(notValidAfter: ca.certificate.notValidAfter))
            ) {
                try CertificateAuthority.load(from: certs, now: later)
            }
            #expect(throws: CertificateIssueError.self) {
                try ca.issue(node: .clearing, hosts: ["127.0.0.1"], now: later)
            }
        }
    }
}
