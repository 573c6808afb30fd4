import { randomBytes } from 'node:crypto'
import { PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { HeldContent, RegisterMessage, TrackerMessage, TrackerReply, TrackerRequest } from '@shoal/protocol'
import WebSocket from 'ws'

export interface Closed {
  code: number
  reason: string
}

type Request = TrackerRequest extends infer R ? (R extends TrackerRequest ? Omit<R, 'id'> : never) : never

const REPLY_TIMEOUT_MS = 5000

/**
 * A bare protocol client over a real WebSocket, for tests: it sends exactly what it is
 * told (including garbage) and hands back replies by request id.
 */
export class TestClient {
  readonly peerId = new Uint8Array(randomBytes(16))
  readonly key = new Uint8Array(randomBytes(16))
  /** Replies nobody waited for, in arrival order. */
  readonly unclaimed: TrackerReply[] = []
  readonly closed: Promise<Closed>
  private readonly waiting = new Map<number, (reply: TrackerReply) => void>()
  private nextId = 1

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.receive(trackerCodec.decode(data) as TrackerReply))
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return new TestClient(ws)
  }

  /** Sends a request with a fresh id and returns that id. */
  send(msg: Request): number {
    const id = this.nextId++
    this.ws.send(trackerCodec.encode({ ...msg, id } as TrackerMessage))
    return id
  }

  sendRaw(data: Uint8Array | string, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary })
  }

  /** Sends and waits for the reply with the same id, at most `timeoutMs`. */
  request(msg: Request, timeoutMs = REPLY_TIMEOUT_MS): Promise<TrackerReply> {
    return this.reply(this.send(msg), timeoutMs)
  }

  reply(id: number, timeoutMs = REPLY_TIMEOUT_MS): Promise<TrackerReply> {
    const early = this.unclaimed.findIndex((r) => r.id === id)
    if (early >= 0) return Promise.resolve(this.unclaimed.splice(early, 1)[0])
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to request ${id} within ${timeoutMs} ms`)), timeoutMs)
      this.waiting.set(id, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
    })
  }

  register(contents: HeldContent[] = [], extra: Partial<RegisterMessage> = {}): Promise<TrackerReply> {
    return this.request({ type: 'register', version: PROTOCOL_VERSION, peerId: this.peerId, key: this.key, port: 7000, contents, ...extra })
  }

  close(): Promise<Closed> {
    this.ws.close()
    return this.closed
  }

  private receive(reply: TrackerReply): void {
    const waiter = this.waiting.get(reply.id)
    if (waiter === undefined) return void this.unclaimed.push(reply)
    this.waiting.delete(reply.id)
    waiter(reply)
  }
}

/** Polls `check` until it returns true: at most `attempts` times, `everyMs` apart. */
export async function eventually(check: () => boolean | Promise<boolean>, attempts = 100, everyMs = 20): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return false
}

export function randomContent(): Uint8Array {
  return new Uint8Array(randomBytes(32))
}
