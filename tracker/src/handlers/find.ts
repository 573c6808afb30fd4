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

/**
 * A report names the reporter by its session, so one connection counts once however often
 * it reports. Its reason goes to the debug log, for an operator tracing a ban.
 */
export const report: Handler<ReportMessage> = ({ config, index }, session, msg) => {
  const reporter = peerKeyOf(session)
  const target = toHex(msg.peerId)
  index.report(reporter, session.contentKeys.of(msg.content), target)
  config.logger.debug({ reporter, target, content: toHex(msg.content), reason: msg.reason }, 'peer reported')
  return { type: 'ok', id: msg.id }
}
