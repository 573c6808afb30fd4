import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { FrameDecoder, frameHeader, MAX_PEER_FRAME, PROTOCOL_VERSION, peerCodec } from '@shoal/protocol'
import type { PeerMessage } from '@shoal/protocol'
import { nextEvent } from './fault-events.js'

/** A reply to a request: piece, busy or reject. */
export type RequestReply = Extract<PeerMessage, { type: 'piece' | 'busy' | 'reject' }>

/**
 * A peer-wire client over raw TCP for fault tests: it frames and sends what it is told,
 * decodes what comes back with peerCodec, and matches request replies by id.
 */
export class RawWireClient {
  readonly peerId = new Uint8Array(randomBytes(16))
  /** Every message received, in order. */
  readonly received: PeerMessage[] = []
  readonly closed: Promise<void>
  private readonly decoder = new FrameDecoder(MAX_PEER_FRAME)
  private readonly waiters = new Map<number, (reply: RequestReply) => void>()
  private readonly listeners = new Set<(msg: PeerMessage) => void>()
  private nextId = 1

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true)
    socket.on('error', () => undefined)
    socket.on('data', (data) => {
      try {
        for (const frame of this.decoder.push(data)) this.onMessage(peerCodec.decode(frame))
      } catch (err) {
        this.socket.destroy(err as Error)
      }
    })
    this.closed = nextEvent(socket, 'close').then(() => undefined)
  }

  static async connect(host: string, port: number): Promise<RawWireClient> {
    const client = new RawWireClient(connect({ host, port }))
    await once(client.socket, 'connect')
    return client
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded
  }

  /** Sends our handshake for `content` and resolves with the peer's bitfield. */
  async handshake(content: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    const bitfield = this.next((m) => m.type === 'bitfield' || m.type === 'error', timeoutMs, 'handshake')
    this.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: this.peerId, content })
    const msg = await bitfield
    if (msg.type !== 'bitfield') throw new Error(`handshake refused: ${JSON.stringify(msg)}`)
    return msg.bitfield
  }

  send(msg: PeerMessage): void {
    this.sendFrame(peerCodec.encode(msg))
  }

  sendFrame(bytes: Uint8Array): void {
    this.socket.write(frameHeader(bytes.length))
    this.socket.write(bytes)
  }

  /** Sends a request and resolves with its piece, busy or reject. */
  request(content: Uint8Array, chunk: number, offset: number, length: number, timeoutMs = 10_000): Promise<RequestReply> {
    const id = this.nextId++
    const reply = new Promise<RequestReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id)
        reject(new Error(`no reply to request ${id} (chunk ${chunk}) within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.set(id, (r) => {
        clearTimeout(timer)
        resolve(r)
      })
      void this.closed.then(() => {
        if (!this.waiters.delete(id)) return
        clearTimeout(timer)
        reject(new Error(`connection closed before the reply to request ${id}`))
      })
    })
    this.send({ type: 'request', id, content, chunk, offset, length })
    return reply
  }

  /** The next message `match` accepts (rejects on close or timeout). */
  next(match: (msg: PeerMessage) => boolean, timeoutMs = 10_000, what = 'a message'): Promise<PeerMessage> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, msg?: PeerMessage): void => {
        clearTimeout(timer)
        this.listeners.delete(listener)
        if (err === undefined) resolve(msg!)
        else reject(err)
      }
      const listener = (msg: PeerMessage): void => {
        if (match(msg)) done(undefined, msg)
      }
      const timer = setTimeout(() => done(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs)
      this.listeners.add(listener)
      void this.closed.then(() => {
        if (this.listeners.has(listener)) done(new Error(`connection closed before ${what}`))
      })
    })
  }

  close(): Promise<void> {
    this.socket.destroy()
    return this.closed
  }

  private onMessage(msg: PeerMessage): void {
    this.received.push(msg)
    for (const l of [...this.listeners]) l(msg)
    if (msg.type !== 'piece' && msg.type !== 'busy' && msg.type !== 'reject') return
    const waiter = this.waiters.get(msg.id)
    if (waiter === undefined) return
    this.waiters.delete(msg.id)
    waiter(msg)
  }
}
