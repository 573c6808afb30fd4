import { pino } from 'pino'
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { Bitfield, CloseCode, ErrorCode, toHex, trackerCodec } from '@shoal/protocol'
import { MemoryChunkIndex } from '../src/memory-index.js'
import { PeerSessions } from '../src/peer-sessions.js'
import type { Session } from '../src/session.js'
import { createTestTracker } from '../src/testing.js'
import { TestClient, eventually, randomContent } from './lib/client.js'

const CONTENT = randomContent()
const held = (chunkCount: number, indices: number[]) => ({ content: CONTENT, chunkCount, bitfield: Bitfield.fromIndices(chunkCount, indices).bytes })

t.test('register, have, find sources', async (t) => {
  const tracker = await createTestTracker(t)
  const seeder = await TestClient.connect(tracker.url)
  const leecher = await TestClient.connect(tracker.url)
  t.teardown(() => { seeder.ws.terminate(); leecher.ws.terminate() })
  t.match(await seeder.register([held(16, [0, 1, 2])]), { type: 'registered', address: '127.0.0.1', ttl: 60 })
  t.same((await leecher.register([held(16, [])])).type, 'registered')
  seeder.send({ type: 'have', content: CONTENT, chunks: [5, 9] })
  seeder.send({ type: 'lost', content: CONTENT, chunks: [0] })
  seeder.send({ type: 'heartbeat', load: 0.5 })
  const wanted = Bitfield.fromIndices(16, [1, 5, 9, 10]).bytes
  const answer = await leecher.request({ type: 'find', content: CONTENT, wanted, max: 0, chunks: true })
  if (answer.type !== 'sources') return t.fail(`expected sources, got ${answer.type}`)
  t.equal(answer.peers.length, 1)
  t.same(answer.peers[0].peerId, seeder.peerId)
  t.match(answer.peers[0], { host: '127.0.0.1', port: 7000, load: 0.5 })
  t.same(new Bitfield(16, answer.peers[0].chunks).toArray(), [1, 5, 9])
  t.same([...answer.rarest].sort((a, b) => a - b), [1, 5, 9])
  const lean = await leecher.request({ type: 'find', content: CONTENT, wanted, max: 0, chunks: false })
  if (lean.type !== 'sources') return t.fail(`expected sources, got ${lean.type}`)
  t.same(lean.peers.map((p) => ({ ...p, chunks: [...p.chunks] })), answer.peers.map((p) => ({ ...p, chunks: [] })), 'without chunk lists: the same source, chunks empty')
  t.same(lean.rarest, answer.rarest, 'without chunk lists: the same rarest chunks')
  const own = await seeder.request({ type: 'find', content: CONTENT, wanted, max: 0, chunks: true })
  t.match(own, { type: 'sources', peers: [] }, 'never the asker')
  t.same(seeder.unclaimed, [], 'have, lost and heartbeat have no reply')
  t.match(await leecher.request({ type: 'unregister', content: CONTENT }), { type: 'ok' })
  t.equal(tracker.index.contentStats(toHex(CONTENT))?.peers, 1)
  t.match(await leecher.request({ type: 'find', content: randomContent(), wanted: new Uint8Array(2), max: 3, chunks: true }), { type: 'sources', peers: [], rarest: [] }, 'unknown content')
})

t.test('requests before register are refused; chunk counts must agree', async (t) => {
  const tracker = await createTestTracker(t)
  const a = await TestClient.connect(tracker.url)
  const b = await TestClient.connect(tracker.url)
  t.teardown(() => { a.ws.terminate(); b.ws.terminate() })
  const id = a.send({ type: 'have', content: CONTENT, chunks: [1] })
  t.match(await a.reply(id), { type: 'error', id, code: ErrorCode.NOT_REGISTERED })
  await a.register([held(8, [1])])
  t.match(await b.register([held(9, [])]), { type: 'error', code: ErrorCode.BAD_MESSAGE })
  t.match(await a.request({ type: 'have', content: CONTENT, chunks: [8] }), { type: 'error', code: ErrorCode.OUT_OF_RANGE })
  t.match(await a.request({ type: 'have', content: randomContent(), chunks: [0] }), { type: 'error', code: ErrorCode.NOT_FOUND }, 'not a content it registered')
  t.match(await a.register([], { peerId: b.peerId }), { type: 'error', code: ErrorCode.BAD_MESSAGE }, 'the peer id stays')
  t.match(await a.register([held(8, [2, 3])]), { type: 'registered' }, 'a second register resyncs')
  t.same(tracker.index.availability(toHex(CONTENT)), [0, 0, 1, 1, 0, 0, 0, 0])
})

t.test('a closed connection leaves the index at once', async (t) => {
  const tracker = await createTestTracker(t)
  const a = await TestClient.connect(tracker.url)
  await a.register([held(4, [0, 1, 2, 3])])
  t.equal(tracker.stats().peersOnline, 1)
  await a.close()
  t.ok(await eventually(() => tracker.stats().peersOnline === 0), 'dropped')
  t.equal(tracker.index.contentStats(toHex(CONTENT)), undefined)
  t.equal(tracker.stats().connections, 0)
})

t.test('a silent peer expires after the ttl; a heartbeating one stays', async (t) => {
  const tracker = await createTestTracker(t, { ttlMs: 300, sweepIntervalMs: 25 })
  const silent = await TestClient.connect(tracker.url)
  const alive = await TestClient.connect(tracker.url)
  t.teardown(() => alive.ws.terminate())
  t.match(await silent.register([held(4, [0])]), { ttl: 1 }, 'told at least one second')
  await alive.register([held(4, [1])])
  const beats = setInterval(() => alive.send({ type: 'heartbeat', load: 0 }), 50)
  t.teardown(() => clearInterval(beats))
  const started = performance.now()
  t.same(await silent.closed, { code: CloseCode.EXPIRED, reason: 'silent for longer than the ttl' })
  t.ok(performance.now() - started >= 250, 'not before the ttl')
  t.same(tracker.index.availability(toHex(CONTENT)), [0, 1, 0, 0])
  t.equal(tracker.stats().totals.expired, 1)
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal(alive.ws.readyState, alive.ws.OPEN, 'heartbeats keep a peer alive past the ttl')
})

t.test('a frame still arriving is not silence: a peer on a slow link is not expired mid-frame', async (t) => {
  const ttlMs = 150
  const tracker = await createTestTracker(t, { ttlMs, sweepIntervalMs: 10 })
  const slow = await TestClient.connect(tracker.url)
  t.teardown(() => slow.ws.terminate())
  await slow.register([held(4, [0])])
  // One masked client frame (a zero mask leaves the payload as it is), written a few bytes at a time.
  const payload = trackerCodec.encode({ type: 'get-manifest', id: 99, content: new Uint8Array(32) })
  const frame = Buffer.concat([Buffer.from([0x82, 0x80 | payload.length, 0, 0, 0, 0]), payload])
  const socket = (slow.ws as unknown as { _socket: Socket })._socket
  const started = performance.now()
  for (let at = 0; at < frame.length; at += 2) {
    socket.write(frame.subarray(at, at + 2))
    await new Promise((resolve) => setTimeout(resolve, ttlMs / 3))
  }
  t.ok(performance.now() - started > 2 * ttlMs, 'the frame took longer than the ttl to arrive (the case under test)')
  t.match(await slow.reply(99), { type: 'error', code: ErrorCode.NOT_FOUND }, 'answered once whole')
  t.equal(tracker.stats().totals.expired, 0, 'not expired meanwhile')
})

t.test('a connection that does not register in time is closed', async (t) => {
  const tracker = await createTestTracker(t, { registerTimeoutMs: 150, sweepIntervalMs: 25 })
  const idle = await TestClient.connect(tracker.url)
  t.equal((await idle.closed).code, CloseCode.REGISTER_TIMEOUT)
  t.equal(tracker.stats().totals.registerTimeouts, 1)
})

t.test('the same peer id: same key replaces, a different key is refused, also for a grace period after the holder left', async (t) => {
  const graceMs = 1000
  const tracker = await createTestTracker(t, { peerIdGraceMs: graceMs, sweepIntervalMs: 25 })
  const first = await TestClient.connect(tracker.url)
  await first.register([held(4, [0])])
  const again = await TestClient.connect(tracker.url)
  t.teardown(() => again.ws.terminate())
  Object.assign(again, { peerId: first.peerId, key: first.key })
  t.match(await again.register([held(4, [3])]), { type: 'registered' })
  t.equal((await first.closed).code, CloseCode.REPLACED)
  t.same(tracker.index.availability(toHex(CONTENT)), [0, 0, 0, 1], 'the entry is the newer connection’s')
  t.equal(tracker.stats().peersOnline, 1)

  const thief = await TestClient.connect(tracker.url)
  Object.assign(thief, { peerId: first.peerId })
  t.match(await thief.register([held(4, [0, 1, 2])]), { type: 'error', code: ErrorCode.AUTH })
  t.equal((await thief.closed).code, CloseCode.PEER_ID_TAKEN)
  t.same(tracker.index.availability(toHex(CONTENT)), [0, 0, 0, 1], 'unchanged')

  await again.close()
  const left = performance.now()
  t.ok(await eventually(() => tracker.stats().peersOnline === 0))
  const squatter = await TestClient.connect(tracker.url)
  Object.assign(squatter, { peerId: first.peerId })
  t.match(await squatter.register([]), { type: 'error', code: ErrorCode.AUTH }, 'while the owner reconnects, another key is refused')
  t.equal((await squatter.closed).code, CloseCode.PEER_ID_TAKEN)
  const owner = await TestClient.connect(tracker.url)
  Object.assign(owner, { peerId: first.peerId, key: first.key })
  t.match(await owner.register([]), { type: 'registered' }, 'the owner\'s key gets it back')
  t.ok(performance.now() - left < graceMs, 'all within the grace period')
  await owner.close()
  const ownerLeft = performance.now()
  t.ok(await eventually(() => tracker.stats().peersOnline === 0))
  // The reservation is a span of time; nothing to await but its end.
  await new Promise((resolve) => setTimeout(resolve, graceMs + 100 - (performance.now() - ownerLeft)))
  const later = await TestClient.connect(tracker.url)
  t.teardown(() => later.ws.terminate())
  Object.assign(later, { peerId: first.peerId })
  t.match(await later.register([]), { type: 'registered' }, 'after the grace period the id takes any key')
})

t.test('peer id reservations expire in order and are bounded in number', async (t) => {
  const sessions = new PeerSessions(new MemoryChunkIndex(), 1000, 2)
  const keys = ['aa', 'bb', 'cc']
  for (const [i, key] of keys.entries()) {
    const session = { peer: undefined, secret: undefined } as unknown as Session
    sessions.bind(session, { key, peerId: new Uint8Array(16), host: '127.0.0.1', port: 1 }, Uint8Array.of(i))
    sessions.release(session)
  }
  const now = performance.now()
  t.equal(sessions.reservedKeyOf('aa', now), undefined, 'the oldest made room')
  t.same(sessions.reservedKeyOf('cc', now), Uint8Array.of(2), 'the newest holds its key')
  sessions.expire(now + 2000)
  t.same(keys.map((k) => sessions.reservedKeyOf(k, now)), [undefined, undefined, undefined], 'expired ones are forgotten')
  const none = new PeerSessions(new MemoryChunkIndex(), 0)
  const session = { peer: undefined, secret: undefined } as unknown as Session
  none.bind(session, { key: 'dd', peerId: new Uint8Array(16), host: '127.0.0.1', port: 1 }, Uint8Array.of(1))
  none.release(session)
  t.equal(none.reservedKeyOf('dd', performance.now()), undefined, 'a grace of 0 reserves nothing')
})

t.test('reports from distinct peers stop a peer from being handed out', async (t) => {
  const logged: { msg: string; reason?: string }[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => logged.push(JSON.parse(line)) })
  const tracker = await createTestTracker(t, { limits: { banThreshold: 2 }, logger })
  const clients = await Promise.all([0, 1, 2, 3].map(() => TestClient.connect(tracker.url)))
  t.teardown(() => clients.forEach((c) => c.ws.terminate()))
  const [bad, r1, r2, asker] = clients
  for (const c of clients) await c.register([held(2, c === asker ? [] : [0, 1])])
  const find = async () => {
    const answer = await asker.request({ type: 'find', content: CONTENT, wanted: Bitfield.full(2).bytes, max: 10, chunks: true })
    return answer.type === 'sources' ? answer.peers.map((p) => toHex(p.peerId)) : []
  }
  t.ok((await find()).includes(toHex(bad.peerId)))
  for (const r of [r1, r1, r2]) t.match(await r.request({ type: 'report', content: CONTENT, peerId: bad.peerId, reason: 'hash mismatch' }), { type: 'ok' })
  t.same((await find()).sort(), [toHex(r1.peerId), toHex(r2.peerId)].sort())
  t.same(logged.filter((l) => l.msg === 'peer reported').map((l) => l.reason), ['hash mismatch', 'hash mismatch', 'hash mismatch'], 'each report and its reason are in the debug log')
})

t.test('behind a trusted proxy the address comes from X-Forwarded-For', async (t) => {
  const proxied = await createTestTracker(t, { trustProxy: true })
  const direct = await createTestTracker(t)
  const headers = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' }
  const viaProxy = await TestClient.connect(proxied.url, { headers })
  const spoofing = await TestClient.connect(direct.url, { headers })
  t.teardown(() => { viaProxy.ws.terminate(); spoofing.ws.terminate() })
  t.match(await viaProxy.register(), { address: '198.51.100.7' }, 'the entry the proxy appended')
  t.match(await spoofing.register(), { address: '127.0.0.1' }, 'ignored unless trusted')
  const garbage = await TestClient.connect(proxied.url, { headers: { 'x-forwarded-for': 'x'.repeat(300) } })
  const mapped = await TestClient.connect(proxied.url, { headers: { 'x-forwarded-for': '::ffff:192.0.2.4' } })
  t.teardown(() => { garbage.ws.terminate(); mapped.ws.terminate() })
  t.match(await garbage.register(), { address: '127.0.0.1' }, 'a header that is no address is ignored')
  t.match(await mapped.register(), { address: '192.0.2.4' }, 'IPv4-mapped IPv6 shows as IPv4')
})

t.test('a connection upgraded while the tracker shuts down is turned away, and the shutdown completes', async (t) => {
  const tracker = await createTestTracker(t, { closeGraceMs: 300 })
  // A peer that does not answer the close handshake keeps the shutdown waiting for the grace period.
  const deaf = await TestClient.connect(tracker.url)
  t.teardown(() => deaf.ws.terminate())
  ;(deaf.ws as unknown as { _socket: Socket })._socket.pause()
  const late = connect(tracker.port, '127.0.0.1')
  t.teardown(() => late.destroy())
  await once(late, 'connect')
  late.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`)
  let received = Buffer.alloc(0)
  late.on('data', (data: Buffer) => { received = Buffer.concat([received, data]) })
  const closing = tracker.close()
  late.write('\r\n') // the request completes, and the upgrade happens, after the shutdown began
  await closing
  const head = received.indexOf('\r\n\r\n')
  t.match(received.subarray(0, head).toString(), /^HTTP\/1\.1 101 /, 'the upgrade went through')
  const frame = received.subarray(head + 4)
  t.equal(frame[0], 0x88, 'then a close frame')
  t.equal(frame.readUInt16BE(2), CloseCode.GOING_AWAY, 'saying going away')
})
