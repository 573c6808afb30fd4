import { toHex } from '@shoal/protocol'
import type { FindMessage, ReportMessage } from '@shoal/protocol'
import { encodeSourcesFrame } from '../sources-frame.js'
import { peerKeyOf } from './context.js'
import type { Handler } from './context.js'

/** The hot path: the answer is encoded straight from the index's result. */
export const find: Handler<FindMessage> = ({ index }, session, msg) => {
  const result = index.find(peerKeyOf(session), session.contentKeys.of(msg.content), msg.wanted, msg.max, msg.chunks)
  return encodeSourcesFrame(msg.id, msg.content, result)
}

/** A report names the reporter by its session, so one connection counts once however often it reports. */
export const report: Handler<ReportMessage> = ({ index }, session, msg) => {
  index.report(peerKeyOf(session), session.contentKeys.of(msg.content), toHex(msg.peerId))
  return { type: 'ok', id: msg.id }
}
