import { once } from 'node:events'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { toHex, trackerCodec } from '@shoal/protocol'
import type { RegisterMessage, TrackerMessage, TrackerReply } from '@shoal/protocol'
import type { Cleanup } from '@shoal/testkit'

/**
 * An adversary, not a mock: a tracker that accepts every peer and answers get-manifest
 * with whatever bytes it was given for that content id, unverified, as a compromised
 * tracker would. It answers find with no sources (or, with `wrongFindReply`, with ok, a reply
 * of the wrong type) and everything else with ok. It keeps every register it gets: what a
 * daemon tells a tracker a link named.
 */
export class HostileTracker {
  readonly registers: RegisterMessage[] = []
  wrongFindReply = false
  private readonly manifests = new Map<string, Uint8Array>()
  private readonly server: WebSocketServer

  private constructor() {
    this.server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
    this.server.on('connection', (ws) => ws.on('message', (data: Buffer) => this.answer(ws, data)))
  }

  static async start(t: Cleanup): Promise<HostileTracker> {
    const tracker = new HostileTracker()
    await once(tracker.server, 'listening')
    t.teardown(() => new Promise((resolve) => {
      for (const ws of tracker.server.clients) ws.terminate()
      tracker.server.close(resolve)
    }))
    return tracker
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as { port: number }).port}`
  }

  serve(content: Uint8Array, manifest: Uint8Array): void {
    this.manifests.set(toHex(content), manifest)
  }

  private answer(ws: WebSocket, data: Buffer): void {
    const msg = trackerCodec.decode(data) as TrackerMessage
    const reply = ((): TrackerReply | undefined => {
      switch (msg.type) {
        case 'register':
          this.registers.push(msg)
          return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 60 }
        case 'get-manifest': {
          const manifest = this.manifests.get(toHex(msg.content))
          return manifest === undefined ? { type: 'error', id: msg.id, code: 'ERR_NOT_FOUND', message: 'unknown' } : { type: 'manifest', id: msg.id, content: msg.content, manifest }
        }
        case 'find':
          if (this.wrongFindReply) return { type: 'ok', id: msg.id }
          return { type: 'sources', id: msg.id, content: msg.content, peers: [], rarest: [] }
        case 'have':
        case 'lost':
        case 'heartbeat':
          return undefined
        default:
          return { type: 'ok', id: msg.id }
      }
    })()
    if (reply !== undefined) ws.send(trackerCodec.encode(reply))
  }
}
