import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import { ClosedLoopConnection } from './closed-loop-connection.js'
import type { LoadCounters } from './load-counters.js'
import type { TickCork } from './tick-cork.js'

/**
 * A WebTorrent peer: announces `started` for one torrent, then `update` announces (no
 * offers, so the tracker answers each with one response). Responses come in order, so
 * latency is matched first in, first out.
 */
export class AnnounceConnection extends ClosedLoopConnection {
  private readonly sentAt: number[] = []
  private readonly started: string
  private readonly update: string
  private onStarted: (() => void) | undefined

  constructor(private readonly ws: WebSocket, infoHash: Buffer, counters: LoadCounters, cork: TickCork) {
    super(counters, cork)
    // Info hash and peer id travel as 20-character "binary strings", as WebTorrent sends them.
    const peerId = randomBytes(20).toString('latin1')
    const announce = (event: string | undefined) => JSON.stringify({
      action: 'announce', info_hash: infoHash.toString('latin1'), peer_id: peerId, numwant: 50,
      uploaded: 0, downloaded: 0, left: 1_000_000, event, offers: [],
    })
    this.started = announce('started')
    this.update = announce(undefined)
    ws.on('message', (data: Buffer) => this.receive(data))
  }

  register(): Promise<void> {
    return new Promise((resolve) => {
      this.onStarted = resolve
      this.ws.send(this.started)
    })
  }

  protected issue(): void {
    this.cork.hold()
    this.ws.send(this.update)
    this.sentAt.push(performance.now())
    this.counters.sent++
  }

  private receive(data: Buffer): void {
    const onStarted = this.onStarted
    if (onStarted !== undefined) {
      this.onStarted = undefined
      return onStarted()
    }
    const sent = this.sentAt.shift()
    if (sent !== undefined) this.completed(sent, data.length)
  }
}
