import { toHex } from '@shoal/protocol'
import type { FindMessage, ReportMessage } from '@shoal/protocol'
import { peerKeyOf } from './context.js'
import type { Handler } from './context.js'

export const find: Handler<FindMessage> = ({ index }, session, msg) => {
  const { peers, rarest } = index.find(peerKeyOf(session), toHex(msg.content), msg.wanted, msg.max)
  return { type: 'sources', id: msg.id, content: msg.content, peers, rarest }
}

/** A report names the reporter by its session, so one connection counts once however often it reports. */
export const report: Handler<ReportMessage> = ({ index }, session, msg) => {
  index.report(peerKeyOf(session), toHex(msg.content), toHex(msg.peerId))
  return { type: 'ok', id: msg.id }
}
