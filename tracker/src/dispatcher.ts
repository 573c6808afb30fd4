import { BadMessageError, CloseCode, ErrorCode, FrameError, ShoalError, errorCodeOf, peekRequestId, trackerCodec } from '@shoal/protocol'
import type { TrackerMessage, TrackerRequest } from '@shoal/protocol'
import { ClosingError } from './closing-error.js'
import { HANDLERS } from './handlers/index.js'
import type { Handler, HandlerContext, Reply } from './handlers/index.js'
import type { Session } from './session.js'

/** Codes that mean the client sent something it should not have; they spend its invalid budget. */
const INVALID_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.BAD_MESSAGE, ErrorCode.TOO_LARGE, ErrorCode.UNSUPPORTED_VERSION, ErrorCode.NOT_REGISTERED,
  ErrorCode.OUT_OF_RANGE, ErrorCode.BAD_MANIFEST, ErrorCode.HASH_MISMATCH,
])

const MAX_ERROR_TEXT = 300

/**
 * The message path: rate limit → decode (validates everything) → handler → reply. Every
 * failure becomes an `error` reply carrying the request id; nothing a client sends can
 * throw out of here.
 */
export class Dispatcher {
  constructor(private readonly ctx: HandlerContext) {}

  handle(session: Session, data: Buffer, isBinary: boolean): void {
    this.ctx.totals.messages++
    if (session.closing) return
    if (!session.admit(data.length)) return this.rateLimited(session, data)
    let msg: TrackerMessage
    try {
      if (!isBinary) throw new BadMessageError('frames must be binary')
      msg = trackerCodec.decode(data)
    } catch (err) {
      const id = err instanceof FrameError && err.requestId !== undefined ? err.requestId : peekRequestId(data) ?? 0
      return this.fail(session, id, err)
    }
    this.run(session, msg)
  }

  private run(session: Session, msg: TrackerMessage): void {
    if (!Object.hasOwn(HANDLERS, msg.type)) return this.fail(session, msg.id, new BadMessageError(`${msg.type} is not a request`))
    const request = msg as TrackerRequest
    const handler = HANDLERS[request.type] as Handler<TrackerRequest>
    this.ctx.totals[request.type]++
    session.lastSeen = performance.now()
    if (session.peer === undefined && msg.type !== 'register') {
      return this.fail(session, msg.id, new ShoalError(ErrorCode.NOT_REGISTERED, 'register first'))
    }
    let result: Reply | undefined | Promise<Reply | undefined>
    try {
      result = handler(this.ctx, session, request)
    } catch (err) {
      return this.fail(session, msg.id, err)
    }
    if (result instanceof Promise) {
      // Only the id outlives the handler's start: a large frame is not kept while its reply is pending.
      const id = msg.id
      result.then((reply) => reply && session.send(reply), (err: unknown) => this.fail(session, id, err))
    } else if (result !== undefined) {
      session.send(result)
    }
  }

  private rateLimited(session: Session, data: Buffer): void {
    this.ctx.totals.rateLimited++
    if (!session.strike()) return session.close(CloseCode.RATE_LIMITED, 'message rate stayed over the limit')
    this.reply(session, peekRequestId(data) ?? 0, ErrorCode.RATE_LIMITED, 'message rate over the limit; slow down')
  }

  private fail(session: Session, id: number, err: unknown): void {
    const code = errorCodeOf(err)
    if (code === ErrorCode.INTERNAL) this.ctx.config.logger.error({ err, peer: session.peer?.key }, 'request failed')
    const text = code === ErrorCode.INTERNAL ? 'internal error' : (err as Error).message.slice(0, MAX_ERROR_TEXT)
    this.reply(session, id, code, text)
    if (err instanceof ClosingError) return session.close(err.closeCode, err.message)
    if (INVALID_CODES.has(code) && ++session.invalid >= this.ctx.config.limits.invalidBudget) {
      session.close(CloseCode.TOO_MANY_INVALID, 'too many invalid messages')
    }
  }

  private reply(session: Session, id: number, code: ErrorCode, message: string): void {
    this.ctx.totals.errors++
    if (INVALID_CODES.has(code)) this.ctx.totals.invalid++
    session.send({ type: 'error', id, code, message })
  }
}
