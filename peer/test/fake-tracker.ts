import { once } from 'node:events'
import { WebSocketServer } from 'ws'
import type WebSocket from 'ws'
import { Bitfield, contentIdOf, toHex, trackerCodec } from '@shoal/protocol'
import type { ReportMessage, TrackerMessage, TrackerReply } from '@shoal/protocol'
import type { Test } from 'tap'

export interface FakeTrackerOptions {
  port?: number
  autoPong?: boolean
  /** Answers a request; the default registers every register and ignores the rest. */
  answer?: (msg: TrackerMessage, ws: WebSocket) => TrackerReply | undefined
}

/**
 * A minimal tracker speaking `trackerCodec` on 127.0.0.1, recording what it receives, for
 * testing the tracker client without the real tracker.
 */
export async function fakeTracker(t: Test, options: FakeTrackerOptions = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, autoPong: options.autoPong ?? true })
  await once(wss, 'listening')
  const received: TrackerMessage[] = []
  const sockets = new Set<WebSocket>()
  const waiters: (() => void)[] = []
  wss.on('connection', (ws) => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    ws.on('message', (data) => {
      const msg = trackerCodec.decode(data as Buffer)
      received.push(msg)
      for (const wake of waiters.splice(0)) wake()
      const reply = options.answer?.(msg, ws) ?? (msg.type === 'register'
        ? { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
        : undefined)
      if (reply !== undefined) ws.send(trackerCodec.encode(reply))
    })
  })
  const port = (wss.address() as { port: number }).port
  let closing: Promise<unknown> | undefined
  const close = () => {
    for (const ws of sockets) ws.terminate()
    return (closing ??= new Promise((resolve) => wss.close(resolve)))
  }
  t.teardown(close)
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    received,
    sockets,
    close,
    /** Resolves when a message matching `pred` has arrived (now or later). */
    async waitFor(pred: (m: TrackerMessage) => boolean, timeoutMs = 5000): Promise<TrackerMessage> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = received.find(pred)
        if (hit !== undefined) return hit
        if (Date.now() > deadline) throw new Error('fake tracker: message did not arrive')
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now())
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    },
  }
}

interface SwarmPeer {
  peerId: Uint8Array
  port: number
  contents: Map<string, Bitfield>
}

/**
 * Answers for a fake tracker that keeps a real (if naive) swarm index: registrations,
 * published manifests, haves, and `find` over them. Enough to run peers against in-process.
 */
export function swarmAnswers() {
  const peers = new Map<WebSocket, SwarmPeer>()
  const manifests = new Map<string, Uint8Array>()
  const reports: ReportMessage[] = []
  const answer = (msg: TrackerMessage, ws: WebSocket): TrackerReply | undefined => {
    switch (msg.type) {
      case 'register': {
        const contents = new Map(msg.contents.map((c) => [toHex(c.content), Bitfield.fromWire(c.chunkCount, c.bitfield)]))
        peers.set(ws, { peerId: msg.peerId, port: msg.port, contents })
        ws.once('close', () => peers.delete(ws))
        return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
      }
      case 'publish':
        manifests.set(toHex(contentIdOf(msg.manifest)), msg.manifest)
        return { type: 'ok', id: msg.id }
      case 'get-manifest': {
        const manifest = manifests.get(toHex(msg.content))
        if (manifest === undefined) return { type: 'error', id: msg.id, code: 'ERR_NOT_FOUND', message: 'unknown content' }
        return { type: 'manifest', id: msg.id, content: msg.content, manifest }
      }
      case 'have':
        for (const c of msg.chunks) peers.get(ws)?.contents.get(toHex(msg.content))?.set(c)
        return undefined
      case 'find': {
        const key = toHex(msg.content)
        const sources = [...peers].filter(([other, p]) => other !== ws && (p.contents.get(key)?.count ?? 0) > 0)
          .map(([, p]) => ({ peerId: p.peerId, host: '127.0.0.1', port: p.port, chunks: msg.chunks ? p.contents.get(key)!.bytes : new Uint8Array(0), load: 0 }))
        return { type: 'sources', id: msg.id, content: msg.content, peers: sources, rarest: [] }
      }
      case 'report':
        reports.push(msg)
        return { type: 'ok', id: msg.id }
      case 'unregister':
        return { type: 'ok', id: msg.id }
      default:
        return undefined
    }
  }
  return { answer, peers, manifests, reports }
}
