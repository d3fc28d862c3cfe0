import Crypto

/// SHA-256 of a canonical walk over values: every stored property (by reflection), with its label
/// and type, down to leaves written as `String(reflecting:)`. Equal values give equal fingerprints
/// in every process of the same build; the children of sets and dictionaries are sorted first, so
/// their iteration order does not matter.
///
/// What it is for: telling whether a snapshot was taken by a machine built from the same inputs
/// (the same scenario, venue and design). A new field of those inputs is covered without any code
/// change. Another toolchain may describe a value differently; a fingerprint that differs then
/// only costs a replay from the start (see ``VenueJournal/restore(scenario:venue:design:)``).
enum CanonicalFingerprint {
    /// The fingerprint of `values`, in order.
    static func of(_ values: Any...) -> [UInt8] {
        var hasher = SHA256()
        for value in values { hasher.update(data: Array(canonical(value).utf8)) }
        return Array(hasher.finalize())
    }

    private static func canonical(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        let type = String(reflecting: mirror.subjectType)
        if mirror.children.isEmpty && mirror.displayStyle != .collection && mirror.displayStyle != .dictionary
            && mirror.displayStyle != .set && mirror.displayStyle != .struct && mirror.displayStyle != .class {
            let leaf = String(reflecting: value)
            return "\(type)=\(leaf.utf8.count):\(leaf)"
        }
        var children = mirror.children.map { child in
            let label = child.label ?? "_"
            return "\(label.utf8.count):\(label)=" + canonical(child.value)
        }
        if mirror.displayStyle == .set || mirror.displayStyle == .dictionary { children.sort() }
        return "\(type){\(children.count):" + children.map { "\($0.utf8.count):\($0)" }.joined() + "}"
    }
}
