import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import { PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { HeldContent, RegisteredMessage, TrackerReply, TrackerRequest } from '@shoal/protocol'
import type { Cleanup } from '@shoal/testkit'

type Request = TrackerRequest extends infer M ? (M extends TrackerRequest ? Omit<M, 'id'> : never) : never

/**
 * A peer reduced to its tracker connection, written against the protocol package only:
 * it registers what it is told to hold and sends requests, so tests control exactly what
 * the tracker sees (and from which local address, through which proxy).
 */
export class RawPeer {
  readonly peerId = new Uint8Array(randomBytes(16))
  private nextId = 1
  private readonly pending = new Map<number, (reply: TrackerReply) => void>()

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const reply = trackerCodec.decode(data) as TrackerReply
      this.pending.get(reply.id)?.(reply)
      this.pending.delete(reply.id)
    })
  }

  /** Opens the WebSocket (`options` as for `ws`: ca, localAddress, headers); closed at teardown. */
  static async connect(t: Cleanup, url: string, options: WebSocket.ClientOptions = {}): Promise<RawPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options })
    t.teardown(() => ws.terminate())
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    return new RawPeer(ws)
  }

  request(msg: Request): Promise<TrackerReply> {
    const id = this.nextId++
    return this.send(id, trackerCodec.encode({ ...msg, id } as TrackerRequest), msg.type)
  }

  /** For messages the tracker does not answer when they succeed (have, lost, heartbeat). */
  tell(msg: Request): void {
    this.ws.send(trackerCodec.encode({ ...msg, id: this.nextId++ } as TrackerRequest))
  }

  /** Sends bytes that are no valid request; the tracker's error reply carries id 0. */
  sendInvalid(frame: Uint8Array): Promise<TrackerReply> {
    return this.send(0, frame, 'an invalid frame')
  }

  private send(id: number, frame: Uint8Array, what: string): Promise<TrackerReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${what} within 5 s`)), 5000)
      this.pending.set(id, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      this.ws.send(frame)
    })
  }

  async register(port: number, contents: HeldContent[] = []): Promise<RegisteredMessage> {
    const reply = await this.request({ type: 'register', version: PROTOCOL_VERSION, peerId: this.peerId, key: new Uint8Array(16), port, contents })
    if (reply.type !== 'registered') throw new Error(`register refused: ${JSON.stringify(reply)}`)
    return reply
  }
}
