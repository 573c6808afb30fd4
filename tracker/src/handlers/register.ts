import { CloseCode, ErrorCode, ShoalError, bytesEqual, toHex } from '@shoal/protocol'
import type { RegisterMessage, RegisteredMessage } from '@shoal/protocol'
import type { IndexPeer } from '../chunk-index.js'
import { ClosingError } from '../closing-error.js'
import { secretsEqual } from '../secret.js'
import type { Handler } from './context.js'

/**
 * Register, or resync on a registered connection: checks the token and peer-id ownership,
 * then replaces the peer's whole entry in one index call, so no reader ever sees it half
 * registered. A connection holding the same id with the same key is replaced (4001); an id
 * whose holder left within the grace period is still its key's alone.
 */
export const register: Handler<RegisterMessage> = (ctx, session, msg) => {
  const { config, index, sessions, totals } = ctx
  if (config.token !== undefined && !secretsEqual(config.token, msg.token)) {
    totals.authFailures++
    throw new ClosingError(ErrorCode.AUTH, 'missing or wrong tracker token', CloseCode.AUTH_FAILED)
  }
  const key = toHex(msg.peerId)
  if (session.peer !== undefined && session.peer.key !== key) {
    throw new ShoalError(ErrorCode.BAD_MESSAGE, 'a connection keeps the peer id it registered with')
  }
  const holder = sessions.holderOf(key)
  const owner = holder === undefined ? sessions.reservedKeyOf(key, performance.now()) : holder.secret
  if (holder !== session && owner !== undefined && !bytesEqual(owner, msg.key)) {
    totals.authFailures++
    throw new ClosingError(ErrorCode.AUTH, 'this peer id is held, or was until moments ago, by a connection with a different key', CloseCode.PEER_ID_TAKEN)
  }
  const peer: IndexPeer = { key, peerId: Uint8Array.from(msg.peerId), host: session.address, port: msg.port }
  // Index work grows with the chunks claimed, not the frame's size: a resync of one large
  // content is a 32 KiB frame that rebuilds 262,144 chunks' counts.
  const admitted = session.payForChunks(msg.contents.reduce((sum, c) => sum + c.chunkCount, 0), () => {
    index.register(peer, msg.contents.map((c) => ({ content: toHex(c.content), chunkCount: c.chunkCount, bitfield: c.bitfield })))
  })
  if (!admitted) {
    totals.rateLimited++
    throw new ShoalError(ErrorCode.RATE_LIMITED, 'registering that many chunks again so soon is over the rate; try again shortly')
  }
  sessions.bind(session, peer, msg.key)
  if (holder !== undefined && holder !== session) {
    totals.replaced++
    holder.close(CloseCode.REPLACED, 'replaced by a newer connection')
  }
  const reply: RegisteredMessage = { type: 'registered', id: msg.id, peerId: msg.peerId, address: session.address, ttl: Math.max(1, Math.floor(config.ttlMs / 1000)) }
  return reply
}
