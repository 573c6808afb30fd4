import { PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { WebSocket } from 'ws'
import { ClosedLoopConnection } from './closed-loop-connection.js'
import type { LoadCounters } from './load-counters.js'
import type { TickCork } from './tick-cork.js'
import { readUint } from './msgpack-uint.js'

const ERROR = 24
const REGISTERED = 20
/** Request ids start here so they always take the 4-byte msgpack form and can be patched in place. */
const FIRST_ID = 0x10000
/** Where the id sits in a have / find frame: after the array header, the type code and 0xce. */
const ID_AT = 3

/**
 * One simulated Shoal peer: registers one content, then runs a closed loop of operations,
 * each `havesPerFind` `have`s (one chunk each) and a `find` for every chunk it lacks, sent
 * in one socket write. Like the peer daemon, its finds ask for no per-source chunk lists
 * unless `chunkLists` says so. Latency is from sending a find to receiving its `sources`. To keep the generator
 * cheap, frames are encoded once and only their id (and the have's chunk) patched per send
 * — ws copies a frame when it masks it, so the template can change right after — and
 * replies are not decoded beyond their type and id.
 */
export class ShoalConnection extends ClosedLoopConnection {
  private nextId = FIRST_ID
  private readonly sentAt = new Map<number, number>()
  private readonly haveFrame: Buffer
  private readonly findFrame: Buffer
  private registered: (() => void) | undefined

  constructor(
    private readonly ws: WebSocket,
    private readonly content: Uint8Array,
    private readonly held: Uint8Array,
    private readonly chunks: number,
    counters: LoadCounters,
    cork: TickCork,
    private readonly havesPerFind: number,
    chunkLists: boolean,
  ) {
    super(counters, cork)
    // Every chunk the peer lacks.
    const wanted = held.map((byte) => ~byte & 0xff)
    const spare = held.length * 8 - chunks
    if (spare > 0) wanted[held.length - 1] &= 0xff << spare
    this.findFrame = Buffer.from(trackerCodec.encode({ type: 'find', id: FIRST_ID, content, wanted, max: 0, chunks: chunkLists }))
    // A chunk of at least 256 encodes as 0xcd + 2 bytes: the frame's last two bytes.
    this.haveFrame = Buffer.from(trackerCodec.encode({ type: 'have', id: FIRST_ID, content, chunks: [Math.max(256, chunks - 1)] }))
    if (this.findFrame[ID_AT - 1] !== 0xce || this.haveFrame[ID_AT - 1] !== 0xce || this.haveFrame[this.haveFrame.length - 3] !== 0xcd) {
      throw new Error('unexpected frame layout')
    }
    ws.on('message', (data: Buffer) => this.receive(data))
  }

  register(): Promise<void> {
    return new Promise((resolve) => {
      this.registered = resolve
      const peerId = new Uint8Array(16)
      crypto.getRandomValues(peerId)
      this.ws.send(trackerCodec.encode({
        type: 'register', id: 1, version: PROTOCOL_VERSION, peerId, key: peerId, port: 6881,
        contents: [{ content: this.content, chunkCount: this.chunks, bitfield: this.held }],
      }))
    })
  }

  protected issue(): void {
    this.cork.hold()
    for (let h = 0; h < this.havesPerFind; h++) {
      this.haveFrame.writeUInt32BE(this.nextId++, ID_AT)
      this.haveFrame.writeUInt16BE(Math.floor(Math.random() * this.chunks), this.haveFrame.length - 2)
      this.ws.send(this.haveFrame)
    }
    const id = this.nextId++
    this.findFrame.writeUInt32BE(id, ID_AT)
    this.ws.send(this.findFrame)
    this.sentAt.set(id, performance.now())
    this.counters.sent += this.havesPerFind + 1
  }

  private receive(data: Buffer): void {
    const at = data[0] === 0xdc ? 3 : 1
    const code = data[at]
    const id = readUint(data, at + 1)
    if (code === REGISTERED) return this.registered?.()
    if (code === ERROR) this.counters.errors++
    const sent = this.sentAt.get(id)
    if (sent === undefined) return
    this.sentAt.delete(id)
    this.completed(sent, data.length)
  }
}
