import type { HaveMessage, HeartbeatMessage, LostMessage, UnregisterMessage } from '@shoal/protocol'
import { peerKeyOf } from './context.js'
import type { Handler } from './context.js'

// The peer's own entries only: the key comes from the session, never from the message.

export const have: Handler<HaveMessage> = ({ index }, session, msg) => {
  index.have(peerKeyOf(session), session.contentKeys.of(msg.content), msg.chunks)
  return undefined
}

export const lost: Handler<LostMessage> = ({ index }, session, msg) => {
  index.lost(peerKeyOf(session), session.contentKeys.of(msg.content), msg.chunks)
  return undefined
}

export const heartbeat: Handler<HeartbeatMessage> = ({ index }, session, msg) => {
  index.setLoad(peerKeyOf(session), msg.load)
  return undefined
}

export const unregister: Handler<UnregisterMessage> = ({ index }, session, msg) => {
  index.unregister(peerKeyOf(session), session.contentKeys.of(msg.content))
  return { type: 'ok', id: msg.id }
}
