import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import WebSocket from 'ws'
import { PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { HeldContent, RegisteredMessage, TrackerMessage, TrackerReply, TrackerRequest } from '@shoal/protocol'
import { within } from '@shoal/testkit'
import { nextEvent } from './fault-events.js'

/** A request before it is given an id. */
export type Unnumbered = TrackerRequest extends infer M ? (M extends TrackerRequest ? Omit<M, 'id'> : never) : never

export interface Closed {
  code: number
  reason: string
}

/**
 * A tracker client speaking trackerCodec over a raw WebSocket, for fault tests: it sends
 * whatever it is told (valid or not), matches replies by id and records everything the
 * tracker sent, including the close code. Written against the protocol package only, so it
 * shares no code path with the peer's own tracker client.
 */
export class RawTrackerClient {
  readonly peerId = new Uint8Array(randomBytes(16))
  readonly key = new Uint8Array(randomBytes(16))
  /** Every frame received, decoded; undecodable ones as their error. */
  readonly received: (TrackerMessage | Error)[] = []
  readonly closed: Promise<Closed>
  private readonly waiters = new Map<number, (reply: TrackerReply) => void>()
  private nextId = 1

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer'
    this.closed = nextEvent(ws, 'close').then((args) => ({ code: args![0] as number, reason: String(args![1]) }))
    ws.on('error', () => undefined)
    ws.on('message', (data: Buffer) => this.onFrame(data))
  }

  /** `localAddress`: the loopback address to connect from (127.0.0.1 by default). */
  static async connect(url: string, localAddress?: string): Promise<RawTrackerClient> {
    const client = new RawTrackerClient(new WebSocket(url, { perMessageDeflate: false, localAddress }))
    await once(client.ws, 'open')
    return client
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  /** Error replies received so far. */
  get errors(): Extract<TrackerMessage, { type: 'error' }>[] {
    return this.received.filter((m): m is Extract<TrackerMessage, { type: 'error' }> => !(m instanceof Error) && m.type === 'error')
  }

  newId(): number {
    return this.nextId++
  }

  /** Sends a request without waiting; returns the id it was given. */
  send(msg: Unnumbered): number {
    const id = this.newId()
    this.sendRaw(trackerCodec.encode({ ...msg, id } as TrackerRequest))
    return id
  }

  sendRaw(bytes: Uint8Array | string): void {
    if (this.isOpen) this.ws.send(bytes)
  }

  /** Sends a request and resolves with the reply carrying its id (an `error` reply too). */
  request(msg: Unnumbered, timeoutMs = 10_000): Promise<TrackerReply> {
    const id = this.newId()
    const reply = this.replyTo(id, timeoutMs, msg.type)
    this.sendRaw(trackerCodec.encode({ ...msg, id } as TrackerRequest))
    return reply
  }

  /** Resolves with the reply to request `id`; rejects when the connection closes or time runs out first. */
  replyTo(id: number, timeoutMs = 10_000, what = `request ${id}`): Promise<TrackerReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id)
        reject(new Error(`no reply to ${what} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.set(id, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      void this.closed.then((c) => {
        if (!this.waiters.delete(id)) return
        clearTimeout(timer)
        reject(new Error(`connection closed (${c.code} ${c.reason}) before the reply to ${what}`))
      })
    })
  }

  /** Registers with the given contents; resolves with `registered` or rejects with the error reply. */
  async register(contents: HeldContent[] = [], port = 9, over: Partial<Unnumbered & { type: 'register' }> = {}): Promise<RegisteredMessage> {
    const reply = await this.request({ type: 'register', version: PROTOCOL_VERSION, peerId: this.peerId, key: this.key, port, contents, ...over })
    if (reply.type !== 'registered') throw new Error(`register refused: ${JSON.stringify(reply)}`)
    return reply
  }

  /** Resolves once the tracker has answered every frame sent before this call (ws ping/pong keeps stream order). */
  async flush(timeoutMs = 10_000): Promise<void> {
    const pong = nextEvent(this.ws, 'pong', timeoutMs, this.closed)
    this.ws.ping()
    if ((await pong) === undefined) throw new Error(`no pong within ${timeoutMs} ms (or the connection closed)`)
  }

  terminate(): void {
    this.ws.terminate()
  }

  /** `closed`, or a rejection naming the wait if the tracker has not closed the connection within `ms`. */
  closedWithin(ms = 10_000): Promise<Closed> {
    return within(this.closed, ms, () => new Error(`the tracker did not close the connection within ${ms} ms`))
  }

  close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000)
    return this.closed
  }

  private onFrame(data: Buffer): void {
    let msg: TrackerMessage
    try {
      msg = trackerCodec.decode(data)
    } catch (err) {
      this.received.push(err as Error)
      return
    }
    this.received.push(msg)
    if (!('id' in msg)) return
    const waiter = this.waiters.get(msg.id)
    if (waiter === undefined) return
    this.waiters.delete(msg.id)
    waiter(msg as TrackerReply)
  }
}
