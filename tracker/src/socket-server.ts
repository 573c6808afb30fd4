import type { Socket } from 'node:net'
import { CloseCode } from '@shoal/protocol'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { Dispatcher } from './dispatcher.js'
import type { HandlerContext } from './handlers/index.js'
import type { Listener } from './listener.js'
import { addressGroup, observedAddress } from './peer-address.js'
import { Session } from './session.js'

/**
 * The WebSocket side of the shared HTTP(S) server: one Session per connection, frames to the
 * dispatcher, and a periodic sweep for register deadlines, expired TTLs and slow consumers.
 */
export class SocketServer {
  private readonly wss: WebSocketServer
  private readonly dispatcher: Dispatcher
  private readonly sweepTimer: NodeJS.Timeout
  /** Set once close() began: a connection upgraded after that is turned away at once. */
  private closing = false
  /** Open connections per address group, for `maxConnectionsPerIp`. */
  private readonly perAddress = new Map<string, number>()

  constructor(server: Listener, private readonly ctx: HandlerContext) {
    const { config } = ctx
    this.dispatcher = new Dispatcher(ctx)
    this.wss = new WebSocketServer({
      server, perMessageDeflate: false, maxPayload: config.limits.maxFrame, clientTracking: false,
      verifyClient: (info, answer) => this.admits(observedAddress(info.req, config.trustProxy)) ? answer(true) : answer(false, 429, 'too many connections from this address'),
    })
    this.wss.on('connection', (ws, req) => this.accept(ws, req.socket as Socket, observedAddress(req, config.trustProxy)))
    // ws repeats the HTTP server's errors; one that stops the listen is the CLI's to report, in one line.
    this.wss.on('error', (err) => {
      if (server.listening) config.logger.error({ err }, 'websocket server error')
    })
    this.sweepTimer = setInterval(() => this.sweep(performance.now()), config.sweepIntervalMs)
    this.sweepTimer.unref()
  }

  /** Closes every connection with "going away"; resolves when all are gone (cut after the grace period). */
  async close(): Promise<void> {
    this.closing = true
    clearInterval(this.sweepTimer)
    const { sessions } = this.ctx
    const gone = [...sessions.all].map((s) => new Promise<void>((resolve) => {
      if (s.ws.readyState === s.ws.CLOSED) return resolve()
      s.ws.once('close', () => resolve())
    }))
    for (const s of sessions.all) s.close(CloseCode.GOING_AWAY, 'tracker shutting down')
    await Promise.all(gone)
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }

  /**
   * Whether one more connection from `address` is within the per-address limit. Checked
   * before the upgrade, which completes in the same turn, so no two upgrades can both take
   * the last place.
   */
  private admits(address: string): boolean {
    const limit = this.ctx.config.limits.maxConnectionsPerIp
    if (limit === 0 || (this.perAddress.get(addressGroup(address)) ?? 0) < limit) return true
    this.ctx.totals.connectionsRefused++
    return false
  }

  private accept(ws: WebSocket, socket: Socket, address: string): void {
    if (this.closing) return this.turnAway(ws)
    const { sessions, totals, config } = this.ctx
    const session = new Session(ws, socket, address, config, totals)
    sessions.all.add(session)
    totals.connections++
    const group = addressGroup(address)
    this.perAddress.set(group, (this.perAddress.get(group) ?? 0) + 1)
    ws.on('message', (data, isBinary) => this.dispatcher.handle(session, data as Buffer, isBinary))
    ws.on('close', () => {
      sessions.remove(session)
      const left = this.perAddress.get(group)! - 1
      if (left === 0) this.perAddress.delete(group)
      else this.perAddress.set(group, left)
    })
    ws.on('error', (err) => config.logger.debug({ err, address }, 'connection error'))
  }

  /** Like Session.close: a close handshake, cut if the peer does not answer in time. */
  private turnAway(ws: WebSocket): void {
    ws.close(CloseCode.GOING_AWAY, 'tracker shutting down')
    setTimeout(() => ws.terminate(), this.ctx.config.closeGraceMs).unref()
  }

  private sweep(now: number): void {
    const { sessions, totals, config } = this.ctx
    sessions.expire(now)
    for (const s of sessions.all) {
      if (s.closing) continue
      s.noteArrivals(now)
      if (s.peer === undefined && now - s.connectedAt >= config.registerTimeoutMs) {
        totals.registerTimeouts++
        s.close(CloseCode.REGISTER_TIMEOUT, 'no register in time')
      } else if (s.peer !== undefined && now - s.lastSeen >= config.ttlMs && !s.waitingOnWork) {
        totals.expired++
        this.drop(s, CloseCode.EXPIRED, 'silent for longer than the ttl')
      } else if (s.isSlowConsumer(now, config.sweepIntervalMs)) {
        totals.slowConsumers++
        this.drop(s, CloseCode.SLOW_CONSUMER, 'replies are not being read')
      }
    }
  }

  /** Removes the peer from the index now, without waiting for the close handshake. */
  private drop(session: Session, code: CloseCode, reason: string): void {
    this.ctx.sessions.release(session)
    session.close(code, reason)
  }
}
