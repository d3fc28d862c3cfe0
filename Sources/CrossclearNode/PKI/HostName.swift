import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turning the host strings given to ``CertificateAuthority/issue(node:hosts:now:validity:)`` into
/// subject alternative names, and telling IP literals from DNS names.
enum HostName {
    /// The bytes of an IPv4 (4 bytes) or IPv6 (16 bytes) literal, or `nil` when `host` is not one.
    static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// Whether `host` is an IPv4 or IPv6 literal.
    static func isIPAddress(_ host: String) -> Bool {
        ipAddressBytes(host) != nil
    }

    /// The SAN entry for `host`: an IP address entry for an IP literal, else a DNS name entry
    /// (lowercased; letters, digits and hyphens in dot-separated labels of 1 to 63 characters; no wildcards).
    static func generalName(for host: String) throws(CertificateIssueError) -> GeneralName {
        if let bytes = ipAddressBytes(host) {
            return .ipAddress(.init(contentBytes: bytes[...]))
        }
        let name = host.lowercased()
        guard !name.isEmpty else {
            throw CertificateIssueError.invalidHost(host, reason: "the host is empty")
        }
        guard name.utf8.count <= 253 else {
            throw CertificateIssueError.invalidHost(host, reason: "a DNS name is at most 253 characters")
        }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw CertificateIssueError.invalidHost(host, reason: "each DNS label must be 1 to 63 characters")
            }
            for byte in label.utf8 {
                let allowed =
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "-")
                guard allowed else {
                    throw CertificateIssueError.invalidHost(
                        host, reason: "not an IP address, and a DNS name allows only letters, digits, '-' and '.'")
                }
            }
            guard label.first != "-", label.last != "-" else {
                throw CertificateIssueError.invalidHost(host, reason: "a DNS label must not start or end with '-'")
            }
        }
        return .dnsName(name)
    }
}
