import { once } from 'node:events'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { Bitfield, bytesEqual, FrameDecoder, frameHeader, MAX_PEER_CLIENT_FRAME, MAX_PEER_FRAME, PROTOCOL_VERSION, peerCodec } from '@shoal/protocol'
import type { PeerMessage, RequestMessage } from '@shoal/protocol'
import { fuzzFrame, judge, peerMessage } from './fault-fuzz.js'
import type { FuzzContent, Rng } from './fault-fuzz.js'
import type { FuzzTally } from './fault-fuzz-tally.js'
import { nextEvent } from './fault-events.js'

const SMALL_CAP = 64 * 1024
/** How long a peer may take to answer what it was sent before it counts as a hang. */
const ANSWER_MS = 10_000

export interface WireFuzzTarget {
  host: string
  port: number
  content: FuzzContent & { chunkSize: number }
  /** The content's bytes, to check every piece served against. */
  data: Buffer
}

/**
 * One fuzzing connection to a peer's wire port. The fuzzer decodes every frame it sends
 * with the same codec as the peer, so it knows what the peer sees and which answer each
 * frame is owed: an `error` for a refused frame or a message not allowed now, exactly one
 * piece, busy or reject per request (a cancelled one may go unanswered), nothing for
 * cancel and error. It checks those answers, and every piece's bytes against the content.
 */
export class WireFuzzConnection {
  private readonly socket: Socket
  private readonly decoder = new FrameDecoder(MAX_PEER_FRAME)
  /** Answers owed, by request id: errors and request replies apart. */
  private readonly owedErrors = new Map<number, number>()
  private readonly owedReplies = new Map<number, number>()
  private readonly requests = new Map<number, RequestMessage[]>()
  private readonly cancelled = new Set<number>()
  private shaken = false
  private handshakeAnswer = 0
  private peerClosed = false
  private expectClose = false
  private readonly closed: Promise<void>
  private onReply: (() => void) | undefined

  constructor(private readonly rng: Rng, private readonly target: WireFuzzTarget, private readonly tally: FuzzTally) {
    this.socket = connect({ host: target.host, port: target.port })
    this.socket.setNoDelay(true)
    this.socket.on('error', () => undefined)
    this.socket.on('data', (data) => this.onData(data))
    this.socket.on('end', () => this.markClosed())
    this.closed = nextEvent(this.socket, 'close').then(() => this.markClosed())
  }

  /** Sends `quota` frames (after a handshake, usually) and checks the answers; returns the frames sent. */
  async run(quota: number): Promise<number> {
    try {
      await once(this.socket, 'connect')
    } catch {
      this.tally.violation('peer refused a connection')
      return 0
    }
    let sent = 0
    let open = true
    if (this.rng.chance(0.8)) {
      this.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: this.rng.bytes(16), content: this.target.content.id }, 'valid')
      sent++
      open = await this.settle()
    }
    let id = 1 + this.rng.int(1000)
    while (open && sent < quota && !this.peerClosed && !this.expectClose) {
      const batch = 1 + this.rng.int(48)
      for (let i = 0; i < batch && sent < quota && !this.expectClose; i++, sent++) {
        this.fuzzOne(++id)
      }
      if (!(await this.settle())) break
    }
    if (!this.peerClosed && !this.expectClose && this.rng.chance(0.1)) this.cutShort()
    const ended = this.peerClosed ? 'peer hung up' : 'fuzzer hung up'
    this.tally.closes[ended] = (this.tally.closes[ended] ?? 0) + 1
    this.socket.end()
    const timer = setTimeout(() => this.socket.destroy(), ANSWER_MS)
    await this.closed
    clearTimeout(timer)
    return sent
  }

  private fuzzOne(id: number): void {
    if (this.rng.chance(0.003)) return this.overlong()
    const valid = peerCodec.encode(peerMessage(this.rng, id, this.target.content))
    const frame = fuzzFrame(this.rng, valid, SMALL_CAP)
    this.sendBytes(frame.bytes)
    this.tally.count(frame.kind, frame.bytes.length)
    // Longer than anything a downloader sends: the peer hangs up at the length.
    if (frame.bytes.length > MAX_PEER_CLIENT_FRAME) {
      this.expectClose = true
      return
    }
    const verdict = judge(peerCodec, frame.bytes)
    if ('error' in verdict) return this.owe(this.owedErrors, verdict.error.requestId ?? 0)
    this.expect(verdict.msg)
  }

  private send(msg: PeerMessage, kind: 'valid'): void {
    const bytes = peerCodec.encode(msg)
    this.sendBytes(bytes)
    this.tally.count(kind, bytes.length)
    this.expect(msg)
  }

  private sendBytes(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return
    this.socket.write(frameHeader(bytes.length))
    this.socket.write(bytes)
  }

  /** The answer the peer owes for a frame it decodes as `msg`, given the connection's state. */
  private expect(msg: PeerMessage): void {
    if (!this.shaken) {
      const ours = msg.type === 'handshake' && bytesEqual(msg.content, this.target.content.id)
      if (ours) {
        this.shaken = true
        this.handshakeAnswer = 2
      } else {
        this.owe(this.owedErrors, 0)
        this.expectClose = true
      }
      return
    }
    switch (msg.type) {
      case 'request': {
        this.owe(this.owedReplies, msg.id)
        const list = this.requests.get(msg.id) ?? []
        list.push(msg)
        this.requests.set(msg.id, list)
        return
      }
      case 'cancel':
        // A queued request it names may now go unanswered.
        if ((this.owedReplies.get(msg.id) ?? 0) > 0) this.cancelled.add(msg.id)
        return
      case 'error':
        return
      default:
        this.owe(this.owedErrors, 0)
    }
  }

  private owe(map: Map<number, number>, id: number): void {
    map.set(id, (map.get(id) ?? 0) + 1)
  }

  /** A length over the frame cap: the stream cannot be trusted any more, so the peer must hang up. */
  private overlong(): void {
    this.socket.write(frameHeader(MAX_PEER_FRAME + 1 + this.rng.int(1000)))
    this.socket.write(Buffer.from(this.rng.bytes(16)))
    this.tally.count('overlong', 20)
    this.expectClose = true
  }

  /** A frame cut short by the end of the stream. */
  private cutShort(): void {
    const bytes = peerCodec.encode(peerMessage(this.rng, 1, this.target.content))
    this.socket.write(frameHeader(bytes.length + 1 + this.rng.int(100)))
    this.socket.write(bytes)
    this.tally.count('cut', bytes.length)
  }

  /** Waits until everything owed has arrived, the peer hung up, or time ran out (a violation). */
  private settle(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer)
        this.onReply = undefined
        resolve(ok)
      }
      const check = (): void => {
        if (this.peerClosed) return done(false)
        // After a frame that ends the connection, wait for the peer to hang up.
        if (this.owing() === 0 && !this.expectClose) done(true)
      }
      const timer = setTimeout(() => {
        const owing = this.owing()
        if (owing > 0) this.tally.violation(`${owing} frames unanswered after ${ANSWER_MS} ms (handshake done: ${this.shaken})`)
        else this.tally.violation(`the peer kept a connection open ${ANSWER_MS} ms after a frame that must end it`)
        done(false)
      }, ANSWER_MS)
      this.onReply = check
      check()
    })
  }

  private owing(): number {
    let n = this.handshakeAnswer
    for (const count of this.owedErrors.values()) n += count
    for (const [id, count] of this.owedReplies) if (!this.cancelled.has(id)) n += count
    return n
  }

  private onData(data: Buffer): void {
    let frames: Buffer[]
    try {
      frames = this.decoder.push(data)
    } catch (err) {
      this.tally.violation(`peer sent a frame over the cap: ${(err as Error).message}`)
      this.socket.destroy()
      return
    }
    for (const frame of frames) {
      const verdict = judge(peerCodec, frame)
      if ('error' in verdict) {
        this.tally.violation(`peer sent an undecodable frame: ${verdict.error.message}`)
        continue
      }
      this.onMessage(verdict.msg)
    }
    this.onReply?.()
  }

  private onMessage(msg: PeerMessage): void {
    this.tally.reply(msg.type)
    switch (msg.type) {
      case 'handshake':
      case 'bitfield':
        if (this.handshakeAnswer === 0) return this.tally.violation(`unexpected ${msg.type}`)
        if (msg.type === 'bitfield' && !bytesEqual(msg.bitfield, Bitfield.full(this.target.content.chunkCount).bytes)) {
          this.tally.violation('a seeder announced a bitfield other than all chunks')
        }
        this.handshakeAnswer--
        return
      case 'error':
        this.tally.errorCodes[msg.code] = (this.tally.errorCodes[msg.code] ?? 0) + 1
        return this.paid(this.owedErrors, msg.id, `error ${msg.code} ${msg.message}`)
      case 'piece':
        this.checkPiece(msg.id, msg.chunk, msg.offset, msg.data)
        return this.paid(this.owedReplies, msg.id, 'piece')
      case 'busy':
      case 'reject':
        if (msg.type === 'reject') this.tally.errorCodes[msg.code] = (this.tally.errorCodes[msg.code] ?? 0) + 1
        return this.paid(this.owedReplies, msg.id, msg.type)
      default:
        this.tally.violation(`peer sent ${msg.type} unasked`)
    }
  }

  private paid(map: Map<number, number>, id: number, what: string): void {
    const owed = map.get(id) ?? 0
    if (owed === 0) return this.tally.violation(`unexpected ${what} for id ${id}`)
    if (owed === 1) map.delete(id)
    else map.set(id, owed - 1)
  }

  private checkPiece(id: number, chunk: number, offset: number, data: Uint8Array): void {
    const asked = this.requests.get(id)?.find((r) => r.chunk === chunk && r.offset === offset && r.length === data.length)
    if (asked === undefined) return this.tally.violation(`piece for id ${id} answers no request`)
    const at = chunk * this.target.content.chunkSize + offset
    if (!bytesEqual(data, this.target.data.subarray(at, at + data.length))) {
      return this.tally.violation(`piece ${chunk}+${offset} (${data.length} bytes) has the wrong bytes`)
    }
    this.tally.piecesVerified++
  }

  private markClosed(): void {
    this.peerClosed = true
    this.onReply?.()
  }
}
