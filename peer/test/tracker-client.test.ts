import t from 'tap'
import type { Test } from 'tap'
import { pino } from 'pino'
import { CloseCode, ErrorCode, PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { HeldContent, RegisterMessage } from '@shoal/protocol'
import { Backoff } from '../src/tracker/backoff.js'
import { MemoryChunkStore } from '../src/store/memory-store.js'
import { TrackerClient } from '../src/tracker/tracker-client.js'
import { TrackerPool } from '../src/tracker/tracker-pool.js'
import type { TrackerClientInit } from '../src/tracker/tracker-client.js'
import { fakeTracker } from './fake-tracker.js'
import { waitFor } from './helpers.js'

const log = pino({ level: 'silent' })
const content = new Uint8Array(32).fill(9)

function client(t: Test, url: string, over: Partial<TrackerClientInit> = {}) {
  const state: { contents: HeldContent[] } = { contents: [{ content, chunkCount: 8, bitfield: Uint8Array.of(0xf0) }] }
  const c = new TrackerClient({
    url, peerId: new Uint8Array(16).fill(1), key: new Uint8Array(16).fill(2), port: 7071, token: 'secret',
    contents: () => state.contents, manifests: () => [], load: () => 0.25,
    backoff: { initialMs: 20, maxMs: 60 }, requestTimeoutMs: 1000, haveDelayMs: 10, log, ...over,
  })
  t.teardown(() => c.close())
  return { c, state }
}

/** The client's next `event`, within 5 s. */
const next = (c: TrackerClient, event: string) => waitFor(c, event, { ms: 5000 })

const registers = (msgs: { type: string }[]) => msgs.filter((m) => m.type === 'register') as RegisterMessage[]

t.test('backoff: full jitter under a doubling cap, reset on success', async (t) => {
  const b = new Backoff({ initialMs: 500, maxMs: 30_000, random: () => 0.999999 })
  t.same([1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next()), [499, 999, 1999, 3999, 7999, 15999, 29999, 29999])
  b.reset()
  t.equal(b.next(), 499)
  const zero = new Backoff({ initialMs: 500, maxMs: 30_000, random: () => 0 })
  t.equal(zero.next(), 0)
  t.throws(() => new Backoff({ initialMs: 0, maxMs: 1 }), { code: ErrorCode.INVALID_ARGUMENT })
  t.throws(() => new Backoff({ initialMs: 10, maxMs: 1 }), { code: ErrorCode.INVALID_ARGUMENT })
})

t.test('registers full state, coalesces haves, heartbeats with load', async (t) => {
  const tracker = await fakeTracker(t)
  const { c } = client(t, tracker.url, { heartbeatMs: 20 })
  c.start()
  await c.ready(2000)
  const [reg] = registers(tracker.received)
  t.match(reg, { version: PROTOCOL_VERSION, port: 7071, token: 'secret', contents: [{ chunkCount: 8 }] })
  c.have(content, [4])
  c.have(content, [5, 4])
  const have = await tracker.waitFor((m) => m.type === 'have')
  t.match(have, { chunks: [4, 5] })
  t.match(await tracker.waitFor((m) => m.type === 'heartbeat'), { load: 0.25 })
  t.equal(tracker.received.filter((m) => m.type === 'have').length, 1)
})

t.test('reconnects after a drop and re-registers the current state', async (t) => {
  const tracker = await fakeTracker(t)
  const { c, state } = client(t, tracker.url)
  c.start()
  await next(c, 'registered')
  state.contents = [...state.contents, { content: new Uint8Array(32).fill(7), chunkCount: 3, bitfield: Uint8Array.of(0) }]
  const down = next(c, 'down')
  for (const ws of tracker.sockets) ws.close(CloseCode.GOING_AWAY, 'restarting')
  t.same(await down, ['restarting'])
  await next(c, 'registered')
  const regs = registers(tracker.received)
  t.equal(regs.length, 2)
  t.equal(regs[1].contents.length, 2, 'the second register carries the new content')
})

t.test('keeps retrying while the tracker is away, then registers when it is back', async (t) => {
  const first = await fakeTracker(t)
  const { c } = client(t, first.url)
  c.start()
  await next(c, 'registered')
  const port = first.port
  await first.close()
  await next(c, 'down')
  await t.rejects(c.ready(1000), { code: ErrorCode.UNREACHABLE, message: /cannot reach tracker/ }, 'ready fails fast while down')
  await next(c, 'down')
  const second = await fakeTracker(t, { port })
  await next(c, 'registered')
  t.equal(registers(second.received).length, 1)
  t.ok(c.registered)
})

/** A fake tracker that refuses the first `refusals` registers with ERR_AUTH and close `code`, then accepts. */
function refusing(t: Test, code: number, refusals: number) {
  let refused = 0
  return fakeTracker(t, {
    answer: (msg, ws) => {
      if (msg.type !== 'register') return undefined
      if (refused++ >= refusals) return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
      ws.send(trackerCodec.encode({ type: 'error', id: msg.id, code: ErrorCode.AUTH, message: 'refused' }))
      ws.close(code, 'go away')
      return undefined
    },
  })
}

t.test(`stops for good on close ${CloseCode.AUTH_FAILED}`, async (t) => {
  const tracker = await refusing(t, CloseCode.AUTH_FAILED, Infinity)
  const { c } = client(t, tracker.url)
  c.start()
  await t.rejects(c.ready(2000), { message: /go away/ })
  t.equal(c.state, 'stopped')
  t.equal(c.lastError, 'go away')
  c.start()
  t.equal(c.state, 'stopped', 'start does nothing once stopped')
  t.equal(registers(tracker.received).length, 1, 'no reconnect')
})

t.test(`keeps retrying slowly on close ${CloseCode.PEER_ID_TAKEN} (the id may be free later)`, async (t) => {
  const tracker = await refusing(t, CloseCode.PEER_ID_TAKEN, 3)
  const { c } = client(t, tracker.url, { backoff: { initialMs: 1, maxMs: 200 } })
  const downs: number[] = []
  c.on('down', () => downs.push(performance.now()))
  c.start()
  await t.rejects(c.ready(2000), { message: /go away/ })
  t.equal(c.state, 'waiting', 'not stopped: it will try again')
  await next(c, 'registered')
  t.equal(registers(tracker.received).length, 4, 'three refusals, then registered')
  const gaps = downs.slice(1).map((at, i) => at - downs[i])
  t.equal(gaps.length, 2)
  t.ok(gaps.every((ms) => ms >= 95), `retries wait at least half the longest backoff, not the initial 1 ms (${gaps.map((ms) => ms.toFixed(0)).join(', ')} ms)`)
})

t.test('requests get their replies, errors and timeouts', async (t) => {
  const tracker = await fakeTracker(t, {
    answer: (msg) => {
      switch (msg.type) {
        case 'register': return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
        case 'find': return { type: 'sources', id: msg.id, content: msg.content, peers: [], rarest: [3] }
        case 'get-manifest': return { type: 'error', id: msg.id, code: ErrorCode.NOT_FOUND, message: 'no such manifest' }
        default: return undefined
      }
    },
  })
  const { c } = client(t, tracker.url, { requestTimeoutMs: 100 })
  await t.rejects(c.request({ type: 'find', content, wanted: Uint8Array.of(0xff), max: 0, chunks: true }), { code: ErrorCode.NOT_REGISTERED })
  c.start()
  await c.ready(2000)
  t.match(await c.request({ type: 'find', content, wanted: Uint8Array.of(0xff), max: 0, chunks: true }), { type: 'sources', rarest: [3] })
  await t.rejects(c.request({ type: 'get-manifest', content }), { code: ErrorCode.NOT_FOUND, message: 'no such manifest' })
  await t.rejects(c.request({ type: 'unregister', content }), { code: ErrorCode.TIMEOUT, message: /did not answer/ })
  const hanging = c.request({ type: 'unregister', content })
  c.close()
  await t.rejects(hanging, { code: ErrorCode.NOT_REGISTERED })
})

t.test('publishes manifests after registering and resyncs on demand', async (t) => {
  const tracker = await fakeTracker(t)
  const { c } = client(t, tracker.url, { manifests: () => [Uint8Array.of(1, 2, 3)] })
  c.start()
  await c.ready(2000)
  t.match(await tracker.waitFor((m) => m.type === 'publish'), { manifest: Uint8Array.of(1, 2, 3) })
  c.resync()
  await tracker.waitFor(() => registers(tracker.received).length === 2)
  t.equal(tracker.received.filter((m) => m.type === 'publish').length, 1, 'a resync on a live connection does not republish')
})

t.test('a resync the tracker refuses is sent again until it is taken', async (t) => {
  let refusals = 2
  const tracker = await fakeTracker(t, {
    answer: (msg) => {
      if (msg.type !== 'register' || registers(tracker.received).length === 1 || refusals === 0) return undefined
      refusals--
      return { type: 'error', id: msg.id, code: ErrorCode.RATE_LIMITED, message: 'registering that many chunks again so soon is over the rate' }
    },
  })
  const { c, state } = client(t, tracker.url)
  c.start()
  await c.ready(2000)
  state.contents = [...state.contents, { content: new Uint8Array(32).fill(7), chunkCount: 8, bitfield: Uint8Array.of(0xff) }]
  c.resync()
  await tracker.waitFor(() => registers(tracker.received).length === 4)
  t.equal(refusals, 0, 'refused twice, then taken')
  t.equal(registers(tracker.received)[3].contents.length, 2, 'with the current state')
  t.ok(c.registered, 'still registered meanwhile')
})

t.test('a tracker that stops answering pings is dropped and reconnected', async (t) => {
  const tracker = await fakeTracker(t, { autoPong: false })
  const { c } = client(t, tracker.url, { heartbeatMs: 30 })
  c.start()
  await next(c, 'registered')
  await next(c, 'down')
  await next(c, 'registered')
  t.ok(registers(tracker.received).length >= 2)
})

t.test('a tracker naming a huge ttl does not make the heartbeat run wild', async (t) => {
  const tracker = await fakeTracker(t, {
    answer: (m) => (m.type === 'register' ? { type: 'registered', id: m.id, peerId: m.peerId, address: '127.0.0.1', ttl: 0xffff_ffff } : undefined),
  })
  const { c } = client(t, tracker.url)
  c.start()
  await c.ready(2000)
  // ttl / 3 overflows a timer, which then fires every millisecond: many heartbeats in this window.
  await t.rejects(tracker.waitFor((m) => m.type === 'heartbeat', 100), /did not arrive/, 'no heartbeat soon after registering')
})

t.test('an unreachable tracker fails ready() with a clear reason', async (t) => {
  const { c } = client(t, 'ws://127.0.0.1:1')
  c.start()
  await t.rejects(c.ready(2000), { code: ErrorCode.UNREACHABLE, message: /cannot reach tracker ws:\/\/127.0.0.1:1: .*ECONNREFUSED/ })
})

t.test('a reply of the wrong type rejects the request instead of reaching its caller', async (t) => {
  const tracker = await fakeTracker(t, {
    answer: (msg) => {
      if (msg.type === 'register') return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
      if (msg.type === 'find') return { type: 'ok', id: msg.id }
      if (msg.type === 'get-manifest') return { type: 'sources', id: msg.id, content, peers: [], rarest: [] }
      if (msg.type === 'publish') return { type: 'ok', id: msg.id }
      return undefined
    },
  })
  const { c } = client(t, tracker.url)
  c.start()
  await c.ready(2000)
  await t.rejects(c.request({ type: 'find', content, wanted: Uint8Array.of(0xff), max: 0, chunks: false }), { code: ErrorCode.BAD_MESSAGE, message: /answered ok where sources was due/ })
  await t.rejects(c.request({ type: 'get-manifest', content }), { code: ErrorCode.BAD_MESSAGE, message: /answered sources where manifest was due/ })
  t.match(await c.request({ type: 'publish', manifest: new Uint8Array(8) }), { type: 'ok' }, 'the right type still answers')
  t.ok(c.registered, 'and the connection stays up')
})

t.test('a tracker that accepts and then drops every connection gets the backoff, not a reconnect storm', async (t) => {
  const tracker = await fakeTracker(t, {
    answer: (msg, ws) => {
      if (msg.type !== 'register') return undefined
      // Registered, then dropped a moment later, as a flapping tracker or an idle-killing proxy does.
      setTimeout(() => ws.terminate(), 5)
      return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
    },
  })
  // Every delay at the top of its range: 20, 40, 80, 160, 320 ms … if nothing resets them.
  const { c } = client(t, tracker.url, { backoff: { initialMs: 20, maxMs: 2000, random: () => 0.999 } })
  const started = performance.now()
  c.start()
  await tracker.waitFor(() => registers(tracker.received).length >= 6, 10_000)
  const ms = performance.now() - started
  t.ok(ms >= 19 + 39 + 79 + 159 + 319, `six registers took ${ms.toFixed(0)} ms: each reconnect waited longer than the last`)
})

t.test('a first register refused (or never answered) on a socket the tracker keeps open is dropped and tried again', async (t) => {
  let refuse = 1
  const tracker = await fakeTracker(t, {
    answer: (msg) => {
      if (msg.type !== 'register') return undefined
      if (refuse-- > 0) return { type: 'error', id: msg.id, code: ErrorCode.RATE_LIMITED, message: 'slow down' }
      return { type: 'registered', id: msg.id, peerId: msg.peerId, address: '127.0.0.1', ttl: 30 }
    },
  })
  const { c } = client(t, tracker.url, { requestTimeoutMs: 150, backoff: { initialMs: 10, maxMs: 20 } })
  c.start()
  await t.rejects(c.ready(5000), { code: ErrorCode.UNREACHABLE, message: /ERR_RATE_LIMITED: slow down/ }, 'the refusal is the reason given')
  await c.ready(5000)
  t.ok(c.registered, 'registered on a later connection')
  t.equal(registers(tracker.received).length, 2)
})

t.test('ready() between attempts tries again at once instead of failing or waiting out the backoff', async (t) => {
  const tracker = await fakeTracker(t)
  const port = tracker.port
  await tracker.close()
  // A long backoff: without the immediate attempt, ready() would fail (or wait a minute).
  const { c } = client(t, `ws://127.0.0.1:${port}`, { backoff: { initialMs: 60_000, maxMs: 60_000, random: () => 0.999 } })
  c.start()
  await t.rejects(c.ready(2000), { code: ErrorCode.UNREACHABLE }, 'nothing listens yet')
  t.equal(c.state, 'waiting')
  const again = await fakeTracker(t, { port })
  await c.ready(2000)
  t.ok(c.registered, 'registered as soon as someone asked')
  t.equal(registers(again.received).length, 1)
})

t.test('a closed pool opens no connection: a request still under way at shutdown is refused', async (t) => {
  const tracker = await fakeTracker(t)
  const pool = new TrackerPool({ store: new MemoryChunkStore(), peerId: new Uint8Array(16).fill(1), key: new Uint8Array(16).fill(2), port: 1, load: () => 0, backoff: { initialMs: 10, maxMs: 20 }, requestTimeoutMs: 1000, haveDelayMs: 5, log })
  const before = pool.ensure(tracker.url)
  const waiting = before.ready(5000)
  pool.close()
  await t.rejects(waiting, { code: ErrorCode.UNREACHABLE }, 'whoever waited for the tracker learns at once')
  t.throws(() => pool.ensure(tracker.url), { code: ErrorCode.UNREACHABLE, message: /shutting down/ })
  t.same(pool.status(), [], 'and no client is left')
})
