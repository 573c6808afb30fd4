import { once } from 'node:events'
import { WebSocketServer } from 'ws'
import type WebSocket from 'ws'
import { trackerCodec } from '@shoal/protocol'
import type { TrackerMessage, TrackerReply } from '@shoal/protocol'
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
