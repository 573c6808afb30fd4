import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { nextEvent } from './fault-events.js'

/**
 * A WebSocket client that stops reading: it does the upgrade by hand over a raw TCP
 * socket, reads up to the first reply it needs, then pauses the socket for good while it
 * keeps sending. The tracker's replies pile up in its send buffer, which is what a peer
 * that never reads does to a server.
 */
export class StalledClient {
  private buffered = Buffer.alloc(0)
  private onData: (() => void) | undefined

  private constructor(readonly socket: Socket) {
    socket.on('error', () => undefined)
    socket.on('data', (data) => {
      this.buffered = Buffer.concat([this.buffered, data])
      this.onData?.()
    })
  }

  static async connect(url: string): Promise<StalledClient> {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) })
    const client = new StalledClient(socket)
    await nextEvent(socket, 'connect', 10_000)
    const key = randomBytes(16).toString('base64')
    socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    const head = await client.take((b) => {
      const at = b.indexOf('\r\n\r\n')
      return at === -1 ? -1 : at + 4
    }, 10_000)
    const response = head.toString('latin1')
    if (!response.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${response.split('\r\n')[0]}`)
    return client
  }

  get destroyed(): boolean {
    return this.socket.destroyed
  }

  /** Sends one masked binary frame, as a client must. */
  send(payload: Uint8Array): void {
    const mask = randomBytes(4)
    const n = payload.length
    const header = n < 126 ? Buffer.from([0x82, 0x80 | n]) : n < 65536 ? Buffer.from([0x82, 0x80 | 126, n >> 8, n & 0xff]) : Buffer.concat([Buffer.from([0x82, 0x80 | 127]), bigEndian64(n)])
    const body = Buffer.from(payload)
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3]
    this.socket.write(Buffer.concat([header, mask, body]))
  }

  /** Reads one server frame's payload (unmasked, at most 125 bytes long as small replies are). */
  async receiveSmall(timeoutMs = 10_000): Promise<Buffer> {
    const frame = await this.take((b) => (b.length >= 2 && b.length >= 2 + (b[1] & 0x7f) ? 2 + (b[1] & 0x7f) : -1), timeoutMs)
    return frame.subarray(2)
  }

  /** From now on nothing is read: the kernel buffers fill and then the server's. */
  stopReading(): void {
    this.socket.pause()
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** Takes the first `length(buffered)` bytes once they are there (length -1: not yet). */
  private take(length: (buffered: Buffer) => number, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const n = length(this.buffered)
        if (n === -1) return
        clearTimeout(timer)
        this.onData = undefined
        const out = this.buffered.subarray(0, n)
        this.buffered = this.buffered.subarray(n)
        resolve(out)
      }
      const timer = setTimeout(() => {
        this.onData = undefined
        reject(new Error(`no reply within ${timeoutMs} ms`))
      }, timeoutMs)
      this.onData = check
      check()
    })
  }
}

function bigEndian64(n: number): Buffer {
  const out = Buffer.alloc(8)
  out.writeBigUInt64BE(BigInt(n))
  return out
}
