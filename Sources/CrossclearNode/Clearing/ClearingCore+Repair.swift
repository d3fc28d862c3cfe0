import CrossclearWire
import Logging

/// Anti-entropy repair: when a digest a venue reports does not match the view, the clearing node
/// asks the venue for a snapshot of its published book and replaces the view with it (plus the
/// journaled changes after it), through the server (Docs/runtime.md, "Anti-entropy repair").
extension ClearingCore {
    /// Asks the venue for a snapshot after its reported digest did not match the view at `through`
    /// (at most one request per venue is outstanding; the server enforces it).
    func requestRepair(of venue: String, epoch: UInt64, through: UInt64) async {
        guard let server = withMachine(changing: false, { _, server in server }) else { return }
        let reason = "the digest reported at \(epoch):\(through) does not match the clearing view"
        await server.requestSnapshot(of: venue, reason: reason)
    }

    /// Replaces the view of `venue` with the snapshot and re-applies the journaled changes after it;
    /// the repaired view is checked again by every digest those changes carry.
    func restore(venue: String, snapshot: BookSnapshot, followedBy changes: [Change]) async {
        let outcome = withMachine(changing: true) { machine, _ -> Result<(digest: UInt64, matched: Bool), MarginBookError>? in
            guard let index = machine.venues.firstIndex(of: venue) else { return nil }
            machine.replaceView(venue: index, with: snapshot.book)
            return Result { () throws(MarginBookError) in
                let matched = try machine.consume(venue: index, changes: changes.map(\.body))
                return (machine.views[index].digest(), matched)
            }
        }
        switch outcome {
        case nil:
            return
        case .failure(let error):
            logger.error("change refused by the clearing view", metadata: ["venue": "\(venue)", "reason": "\(error)"])
        case .success(let view):
            logger.notice(
                "view of \(venue) repaired from snapshot at \(snapshot.throughSequence) (digest \(hexDigest(snapshot.book.digest())), \(changes.count) later changes re-applied, view digest now \(hexDigest(view.digest)))")
            if !view.matched {
                logger.error("view diverged again from a digest after the snapshot", metadata: ["venue": "\(venue)"])
                await requestRepair(of: venue, epoch: snapshot.epoch, through: changes.last?.sequence ?? snapshot.throughSequence)
            }
        }
    }
}
