import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { Bitfield, fromHex, PROTOCOL_VERSION, toHex, trackerCodec } from '@shoal/protocol'
import type { TrackerMessage, TrackerRequest } from '@shoal/protocol'
import { nextEvent } from './fault-events.js'
import { Rng } from './fault-fuzz.js'

/** What the churn child is told, as one JSON argument. */
export interface ChurnOptions {
  url: string
  seed: number
  peers: number
  /** How long the churn goes on. */
  durationMs: number
  contents: { id: string; chunkCount: number }[]
  /** Mean pause between one peer's actions. */
  meanActionMs: number
}

/** What it reports at the end: which simulated peers are connected and what each holds. */
export interface ChurnReport {
  type: 'churn-report'
  /** Peer id (hex) → content (hex) → bitfield (hex), for every peer still connected and registered. */
  holdings: Record<string, Record<string, string>>
  actions: Record<string, number>
  /** Replies that were not what the protocol promises (empty when all is well). */
  wrong: string[]
}

const options = JSON.parse(process.argv[2]) as ChurnOptions
const contents = options.contents.map((c) => ({ id: fromHex(c.id, 32)!, hex: c.id, chunkCount: c.chunkCount }))
const actions: Record<string, number> = {}
const wrong: string[] = []
const count = (what: string): void => void (actions[what] = (actions[what] ?? 0) + 1)
const deadline = Date.now() + options.durationMs

/**
 * One simulated peer: connects, registers some contents with random chunks, then at random
 * sends have, lost, heartbeat, find, unregister or a full resync, and now and then
 * disconnects (cleanly or abruptly) and comes back later. It keeps the model of what the
 * tracker must hold for it, updated as it sends.
 */
class SimulatedPeer {
  readonly rng: Rng
  readonly peerId: Uint8Array
  readonly key: Uint8Array
  ws: WebSocket | undefined
  registered = false
  held = new Map<string, Bitfield>()
  private nextId = 1
  private readonly waiting = new Map<number, (msg: TrackerMessage) => void>()

  constructor(index: number) {
    this.rng = new Rng((options.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
    this.peerId = this.rng.bytes(16)
    this.key = this.rng.bytes(16)
  }

  async live(): Promise<void> {
    // Arrivals spread over the first seconds, as a crowd's would be.
    await sleep(this.rng.int(5000))
    while (Date.now() < deadline) {
      if (!(await this.connect())) {
        await sleep(500 + this.rng.int(2000))
        continue
      }
      while (Date.now() < deadline && this.registered) {
        await sleep(this.rng.int(2 * options.meanActionMs))
        if (Date.now() >= deadline || !this.registered) break
        if (this.rng.chance(0.04)) {
          this.disconnect()
          await sleep(500 + this.rng.int(5000))
          break
        }
        await this.act()
      }
    }
  }

  private async connect(): Promise<boolean> {
    const ws = new WebSocket(options.url, { perMessageDeflate: false })
    this.ws = ws
    ws.binaryType = 'nodebuffer'
    ws.on('error', () => undefined)
    ws.on('message', (data: Buffer) => this.onFrame(data))
    ws.on('close', () => {
      if (this.ws === ws) this.registered = false
    })
    if ((await nextEvent(ws, 'open', 10_000, nextEvent(ws, 'close'))) === undefined) {
      count('connect-failed')
      ws.terminate()
      return false
    }
    this.held = new Map()
    for (const c of contents) if (this.rng.chance(2 / contents.length)) this.held.set(c.hex, this.randomBits(c.chunkCount))
    const reply = await this.request({ type: 'register', id: 0, version: PROTOCOL_VERSION, peerId: this.peerId, key: this.key, port: 1 + this.rng.int(65535), contents: this.heldContents() })
    if (reply?.type !== 'registered') {
      count('register-failed')
      if (reply !== undefined) wrong.push(`register answered ${JSON.stringify(reply)}`)
      ws.terminate()
      return false
    }
    count('register')
    this.registered = true
    return true
  }

  private async act(): Promise<void> {
    const r = this.rng.next()
    const mine = [...this.held.keys()]
    const c = mine.length > 0 ? contents.find((x) => x.hex === this.rng.pick(mine))! : undefined
    if (c !== undefined && r < 0.35) {
      const chunks = Array.from({ length: 1 + this.rng.int(4) }, () => this.rng.int(c.chunkCount))
      for (const i of chunks) this.held.get(c.hex)!.set(i)
      return this.send('have', { type: 'have', id: 0, content: c.id, chunks })
    }
    if (c !== undefined && r < 0.55) {
      const chunks = Array.from({ length: 1 + this.rng.int(4) }, () => this.rng.int(c.chunkCount))
      for (const i of chunks) this.held.get(c.hex)!.clear(i)
      return this.send('lost', { type: 'lost', id: 0, content: c.id, chunks })
    }
    if (r < 0.7) return this.send('heartbeat', { type: 'heartbeat', id: 0, load: this.rng.next() })
    if (r < 0.9) {
      const target = this.rng.pick(contents)
      const reply = await this.request({ type: 'find', id: 0, content: target.id, wanted: Bitfield.full(target.chunkCount).bytes, max: 0, chunks: true })
      count('find')
      if (reply !== undefined && reply.type !== 'sources') wrong.push(`find answered ${JSON.stringify(reply)}`)
      return
    }
    if (c !== undefined && r < 0.95) {
      this.held.delete(c.hex)
      const reply = await this.request({ type: 'unregister', id: 0, content: c.id })
      count('unregister')
      if (reply !== undefined && reply.type !== 'ok') wrong.push(`unregister answered ${JSON.stringify(reply)}`)
      return
    }
    // A full resync: the whole state replaced at once.
    this.held = new Map()
    for (const x of contents) if (this.rng.chance(2 / contents.length)) this.held.set(x.hex, this.randomBits(x.chunkCount))
    const reply = await this.request({ type: 'register', id: 0, version: PROTOCOL_VERSION, peerId: this.peerId, key: this.key, port: 1 + this.rng.int(65535), contents: this.heldContents() })
    count('resync')
    if (reply !== undefined && reply.type !== 'registered') wrong.push(`resync answered ${JSON.stringify(reply)}`)
  }

  disconnect(): void {
    this.registered = false
    if (this.rng.chance(0.5)) {
      count('close')
      this.ws?.close(1000)
    } else {
      count('terminate')
      this.ws?.terminate()
    }
  }

  /** Everything sent so far has been handled once the tracker answers a ping sent after it. */
  async flush(): Promise<void> {
    const ws = this.ws
    if (!this.registered || ws === undefined) return
    const pong = nextEvent(ws, 'pong', 10_000, nextEvent(ws, 'close'))
    ws.ping()
    if ((await pong) === undefined && this.registered) wrong.push('no pong within 10 s')
  }

  private randomBits(chunkCount: number): Bitfield {
    const bits = new Bitfield(chunkCount)
    for (let i = 0; i < chunkCount; i++) if (this.rng.chance(0.3)) bits.set(i)
    return bits
  }

  private heldContents() {
    return contents.filter((c) => this.held.has(c.hex)).map((c) => ({ content: c.id, chunkCount: c.chunkCount, bitfield: this.held.get(c.hex)!.bytes }))
  }

  private send(what: string, msg: TrackerRequest): void {
    count(what)
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(trackerCodec.encode({ ...msg, id: this.nextId++ } as TrackerRequest))
  }

  /** Sends and waits for the reply; undefined when the connection closed first. */
  private request(msg: TrackerRequest): Promise<TrackerMessage | undefined> {
    const ws = this.ws!
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined, 'timeout'), 10_000)
      const finish = (reply: TrackerMessage | undefined, why?: string): void => {
        clearTimeout(timer)
        ws.off('close', onClose)
        this.waiting.delete(id)
        if (why === 'timeout') wrong.push(`no reply to ${msg.type} within 10 s`)
        resolve(reply)
      }
      const onClose = (): void => finish(undefined)
      ws.once('close', onClose)
      this.waiting.set(id, (reply) => finish(reply))
      if (ws.readyState === WebSocket.OPEN) ws.send(trackerCodec.encode({ ...msg, id } as TrackerRequest))
    })
  }

  private onFrame(data: Buffer): void {
    let msg: TrackerMessage
    try {
      msg = trackerCodec.decode(data)
    } catch (err) {
      wrong.push(`undecodable frame from the tracker: ${(err as Error).message}`)
      return
    }
    if (msg.type === 'error' && !this.waiting.has(msg.id)) wrong.push(`error ${msg.code} for ${msg.id}: ${msg.message}`)
    if ('id' in msg) this.waiting.get(msg.id)?.(msg)
  }
}

const peers = Array.from({ length: options.peers }, (_, i) => new SimulatedPeer(i))
await Promise.all(peers.map((p) => p.live()))
await Promise.all(peers.map((p) => p.flush()))
const holdings: ChurnReport['holdings'] = {}
for (const p of peers) {
  if (!p.registered) continue
  holdings[toHex(p.peerId)] = Object.fromEntries([...p.held].map(([content, bits]) => [content, toHex(bits.bytes)]))
}
process.stdout.write(`${JSON.stringify({ type: 'churn-report', holdings, actions, wrong: wrong.slice(0, 20) } satisfies ChurnReport)}\n`)
// Stays connected until killed: the test checks the tracker's index against this state.
