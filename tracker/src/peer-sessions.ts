import type { ChunkIndex, IndexPeer, PeerKey } from './chunk-index.js'
import type { Session } from './session.js'

/**
 * All open sessions, and which one holds each peer id. Only the holder's entry is in the
 * index, so a connection can only ever change its own peer's entries.
 */
export class PeerSessions {
  readonly all = new Set<Session>()
  private readonly byPeer = new Map<PeerKey, Session>()

  constructor(private readonly index: ChunkIndex) {}

  holderOf(peer: PeerKey): Session | undefined {
    return this.byPeer.get(peer)
  }

  /** Makes `session` the holder of `peer`; the index entry was already replaced in place. */
  bind(session: Session, peer: IndexPeer, secret: Uint8Array): void {
    const previous = this.byPeer.get(peer.key)
    if (previous !== undefined && previous !== session) previous.peer = undefined
    this.byPeer.set(peer.key, session)
    session.peer = peer
    session.secret = Uint8Array.from(secret)
  }

  /** Removes the session's peer from the index at once, if it still holds it. */
  release(session: Session): void {
    const peer = session.peer
    if (peer === undefined) return
    session.peer = undefined
    if (this.byPeer.get(peer.key) !== session) return
    this.byPeer.delete(peer.key)
    this.index.drop(peer.key)
  }

  remove(session: Session): void {
    this.release(session)
    this.all.delete(session)
  }
}
