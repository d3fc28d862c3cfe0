import Crypto
import Foundation
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading and writing the PEM files of a ``CertificateDirectory``, with errors that name the file.
enum PEMFile {
    /// The PEM label of a certificate.
    static let certificateLabel = "CERTIFICATE"
    /// The PEM labels a P-256 private key may carry (PKCS#8 as written here, or SEC1).
    static let privateKeyLabels = ["PRIVATE KEY", "EC PRIVATE KEY"]

    // MARK: - Reading

    /// Reads one certificate from a PEM file.
    static func readCertificate(at path: String) throws(CertificateFileError) -> Certificate {
        let text = try readText(at: path)
        try checkSingleBlock(text, path: path, expected: [certificateLabel])
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw CertificateFileError(path: path, problem: .invalidContent(String(describing: error)))
        }
    }

    /// Reads one P-256 private key from a PEM file, refusing files readable by group or others.
    static func readPrivateKey(at path: String) throws(CertificateFileError) -> P256.Signing.PrivateKey {
        let mode = try permissions(at: path)
        guard mode & 0o077 == 0 else {
            throw CertificateFileError(path: path, problem: .insecurePermissions(mode: mode))
        }
        let text = try readText(at: path)
        try checkSingleBlock(text, path: path, expected: privateKeyLabels)
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw CertificateFileError(
                path: path, problem: .invalidContent("not a P-256 private key (\(error))"))
        }
    }

    /// The permission bits (`st_mode & 0o777`) of a file.
    static func permissions(at path: String) throws(CertificateFileError) -> UInt16 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { throw CertificateFileError(path: path, problem: .missing) }
            throw CertificateFileError(path: path, problem: .unreadable(errnoDescription(code)))
        }
        return UInt16(info.st_mode & 0o777)
    }

    private static func readText(at path: String) throws(CertificateFileError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { throw CertificateFileError(path: path, problem: .missing) }
            throw CertificateFileError(path: path, problem: .unreadable(errnoDescription(code)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CertificateFileError(path: path, problem: .unreadable("not a regular file"))
        }
        // Certificates and keys are a few kilobytes; refuse anything absurd rather than read it.
        guard info.st_size <= 1 << 20 else {
            throw CertificateFileError(path: path, problem: .invalidContent("file is larger than 1 MiB"))
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CertificateFileError(path: path, problem: .unreadable(error.localizedDescription))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CertificateFileError(path: path, problem: .notPEM)
        }
        return text
    }

    /// Checks that `text` holds exactly one PEM block whose label is one of `expected`.
    private static func checkSingleBlock(
        _ text: String, path: String, expected: [String]
    ) throws(CertificateFileError) {
        let labels = text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let line = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("-----BEGIN "), line.hasSuffix("-----"), line.count > 16 else { return nil }
            return String(line.dropFirst("-----BEGIN ".count).dropLast("-----".count))
        }
        guard let first = labels.first else {
            throw CertificateFileError(path: path, problem: .notPEM)
        }
        guard expected.contains(first) else {
            throw CertificateFileError(
                path: path, problem: .wrongPEMType(found: first, expected: expected.joined(separator: "' or '")))
        }
        guard labels.count == 1 else {
            throw CertificateFileError(
                path: path, problem: .invalidContent("expected one PEM block, found \(labels.count)"))
        }
    }

    // MARK: - Writing

    /// Writes a certificate as PEM, mode 0644, atomically.
    static func writeCertificate(_ certificate: Certificate, to path: String) throws(CertificateFileError) {
        let pem: String
        do {
            pem = try certificate.serializeAsPEM().pemString
        } catch {
            throw CertificateFileError(path: path, problem: .writeFailed(String(describing: error)))
        }
        try writeAtomically(Array((pem + "\n").utf8), to: path, mode: 0o644)
    }

    /// Writes a private key as PKCS#8 PEM, mode 0600, atomically. The key is never on disk with a wider mode.
    static func writePrivateKey(_ privateKey: P256.Signing.PrivateKey, to path: String) throws(CertificateFileError) {
        try writeAtomically(Array((privateKey.pemRepresentation + "\n").utf8), to: path, mode: 0o600)
    }

    /// Creates `directory` (and its parents) with mode 0700 when it does not exist.
    static func createDirectory(_ directory: String) throws(CertificateFileError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CertificateFileError(path: directory, problem: .writeFailed("exists and is not a directory"))
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: NSNumber(value: 0o700)])
        } catch {
            throw CertificateFileError(path: directory, problem: .writeFailed(error.localizedDescription))
        }
    }

    /// Writes `bytes` to a fresh temporary file created with `mode`, syncs it, renames it over `path`
    /// and syncs the directory, so that a crash leaves either the old file or the new one.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt16) throws(CertificateFileError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else {
            throw CertificateFileError(path: path, problem: .writeFailed(errnoDescription(errno)))
        }
        var failure: CertificateFileError.Problem?
        // The umask may have narrowed the mode given to open; set it exactly.
        if fchmod(fd, mode_t(mode)) != 0 {
            failure = .writeFailed(errnoDescription(errno))
        }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = .writeFailed(errnoDescription(errno))
            } else {
                offset += written
            }
        }
        if failure == nil, fsync(fd) != 0 {
            failure = .writeFailed(errnoDescription(errno))
        }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 {
            failure = .writeFailed(errnoDescription(errno))
        }
        if let failure {
            unlink(temporary)
            throw CertificateFileError(path: path, problem: failure)
        }
        syncDirectory(containing: path)
    }

    private static func syncDirectory(containing path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func errnoDescription(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
