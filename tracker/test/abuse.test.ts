import t from 'tap'
import { WebSocket } from 'ws'
import { Bitfield, CloseCode, ErrorCode, PROTOCOL_VERSION, toHex, trackerCodec } from '@shoal/protocol'
import { Packr } from 'msgpackr'
import type { Tracker } from '../src/index.js'
import { createTestTracker } from '../src/testing.js'
import { TestClient, eventually, randomContent } from './lib/client.js'
import type { TapTest } from './lib/tap-test.js'

const CONTENT = randomContent()
const packr = new Packr({ useRecords: false })

/** A neighbour that must keep getting answers whatever others send. */
async function neighbour(t: TapTest, url: string): Promise<() => Promise<void>> {
  const client = await TestClient.connect(url)
  t.teardown(() => client.ws.terminate())
  await client.register([{ content: CONTENT, chunkCount: 8, bitfield: Bitfield.full(8).bytes }])
  return async () => {
    t.match(await client.request({ type: 'find', content: CONTENT, wanted: Bitfield.full(8).bytes, max: 0, chunks: true }), { type: 'sources' }, 'the neighbour is still served')
  }
}

t.test('malformed frames get error replies with the request id', async (t) => {
  const tracker = await createTestTracker(t)
  const stillServed = await neighbour(t, tracker.url)
  const bad = await TestClient.connect(tracker.url)
  t.teardown(() => bad.ws.terminate())
  await bad.register()
  const expectError = async (data: Uint8Array | string, code: string, id: number, what: string) => {
    bad.sendRaw(data)
    const ok = await eventually(() => bad.unclaimed.length > 0, 100, 10)
    t.ok(ok, `${what}: answered`)
    t.match(bad.unclaimed.shift(), { type: 'error', code, id }, what)
  }
  await expectError(Uint8Array.of(0xc1, 0x00), ErrorCode.BAD_MESSAGE, 0, 'garbage')
  await expectError(packr.pack([8, 77, 'not bytes', new Uint8Array(1), 0]), ErrorCode.BAD_MESSAGE, 77, 'a find with a bad field')
  await expectError(packr.pack([99, 78]), ErrorCode.BAD_MESSAGE, 78, 'an unknown type')
  await expectError(trackerCodec.encode({ type: 'ok', id: 79 }), ErrorCode.BAD_MESSAGE, 79, 'a reply sent as a request')
  await expectError('{"type":"find"}', ErrorCode.BAD_MESSAGE, 0, 'a text frame')
  await expectError(packr.pack([1, 80, PROTOCOL_VERSION + 1, new Uint8Array(16), new Uint8Array(16), 1, null, []]), ErrorCode.UNSUPPORTED_VERSION, 80, 'a newer protocol version')
  const wanted = new Uint8Array(100_000)
  await expectError(trackerCodec.encode({ type: 'find', id: 81, content: CONTENT, wanted, max: 0, chunks: true }), ErrorCode.TOO_LARGE, 81, 'a find over its size cap')
  t.match(await bad.request({ type: 'find', content: CONTENT, wanted: new Uint8Array(3), max: 0, chunks: true }), { type: 'error', code: ErrorCode.BAD_MESSAGE }, 'wanted of the wrong length')
  await stillServed()
  t.equal(bad.ws.readyState, bad.ws.OPEN, 'a few bad frames do not close the connection')
  t.ok(tracker.stats().totals.invalid >= 8)
})

t.test('a frame over the maximum closes only that connection', async (t) => {
  const tracker = await createTestTracker(t, { limits: { maxFrame: 64 * 1024 } })
  const stillServed = await neighbour(t, tracker.url)
  const big = await TestClient.connect(tracker.url)
  big.sendRaw(new Uint8Array(70 * 1024))
  t.equal((await big.closed).code, 1009, 'message too big')
  await stillServed()
})

t.test('the invalid budget closes the connection once spent', async (t) => {
  const tracker = await createTestTracker(t, { limits: { invalidBudget: 5 } })
  const stillServed = await neighbour(t, tracker.url)
  const bad = await TestClient.connect(tracker.url)
  for (let i = 0; i < 10; i++) bad.sendRaw(Uint8Array.of(0x90))
  t.equal((await bad.closed).code, CloseCode.TOO_MANY_INVALID)
  t.equal(bad.unclaimed.filter((r) => r.type === 'error').length, 5, 'each invalid frame was answered until then')
  await stillServed()
})

t.test('a flooding connection is rate limited, then closed', async (t) => {
  const tracker = await createTestTracker(t, { limits: { messageRate: 50, messageBurst: 20 } })
  const stillServed = await neighbour(t, tracker.url)
  const flood = await TestClient.connect(tracker.url)
  await flood.register()
  for (let i = 0; i < 30; i++) flood.send({ type: 'heartbeat', load: 0 })
  t.ok(await eventually(() => flood.unclaimed.length >= 10, 100, 10))
  t.match(flood.unclaimed[0], { type: 'error', code: ErrorCode.RATE_LIMITED })
  const timer = setInterval(() => { for (let i = 0; i < 20; i++) flood.send({ type: 'heartbeat', load: 0 }) }, 5)
  t.teardown(() => clearInterval(timer))
  t.equal((await flood.closed).code, CloseCode.RATE_LIMITED)
  clearInterval(timer)
  await stillServed()
})

/**
 * Three holders of a 200,000-chunk content, and a fourth connection that stops reading and
 * sends 400 finds asking for chunk lists (about 75 KB of reply each).
 */
async function floodUnread(t: TapTest, tracker: Tracker): Promise<void> {
  const chunkCount = 200_000
  const big = { content: randomContent(), chunkCount, bitfield: Bitfield.full(chunkCount).bytes }
  const holders = await Promise.all([0, 1, 2].map(() => TestClient.connect(tracker.url)))
  t.teardown(() => holders.forEach((h) => h.ws.terminate()))
  for (const h of holders) await h.register([big])
  const reader = await TestClient.connect(tracker.url)
  t.teardown(() => reader.ws.terminate())
  await reader.register()
  ;(reader.ws as unknown as { _socket: { pause(): void } })._socket.pause()
  const find = trackerCodec.encode({ type: 'find', id: 1, content: big.content, wanted: big.bitfield, max: 0, chunks: true })
  for (let i = 0; i < 400; i++) reader.ws.send(find)
}

t.test('a connection that does not read its replies is dropped', async (t) => {
  const tracker = await createTestTracker(t, { sweepIntervalMs: 50, closeGraceMs: 100, limits: { maxBufferedBytes: 64 * 1024, messageRate: 1_000_000, messageBurst: 1_000_000 } })
  const stillServed = await neighbour(t, tracker.url)
  await floodUnread(t, tracker)
  t.ok(await eventually(() => tracker.stats().totals.slowConsumers === 1, 200, 25), 'dropped as a slow consumer')
  t.ok(await eventually(() => tracker.stats().peersOnline === 4), 'its entry left the index')
  await stillServed()
})

t.test('a connection whose unread replies pile up far over the limit is cut without waiting for the sweep', async (t) => {
  const limit = 64 * 1024
  // No sweep runs during the test: only the check on each reply can end the connection.
  const tracker = await createTestTracker(t, { sweepIntervalMs: 3_600_000, limits: { maxBufferedBytes: limit, messageRate: 1_000_000, messageBurst: 1_000_000 } })
  const stillServed = await neighbour(t, tracker.url)
  await floodUnread(t, tracker)
  t.ok(await eventually(() => tracker.stats().totals.slowConsumers === 1, 200, 25), 'cut as a slow consumer')
  t.ok(await eventually(() => tracker.stats().peersOnline === 4), 'its entry left the index')
  t.ok(tracker.stats().totals.find < 400, `it stopped being answered (${tracker.stats().totals.find} of 400 finds read)`)
  await stillServed()
})

t.test('registers pay rate tokens for the chunks they claim; a refused resync leaves the entry as it was', async (t) => {
  const tracker = await createTestTracker(t, { limits: { messageRate: 1, messageBurst: 200 } })
  const stillServed = await neighbour(t, tracker.url)
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  const chunkCount = 262_144
  const contents = [0, 1, 2, 3].map(() => ({ content: randomContent(), chunkCount, bitfield: Bitfield.full(chunkCount).bytes }))
  // 4 × 262,144 chunks are 64 tokens, the 128 KiB frame 3: twice fits in 200, the third time not.
  t.match(await c.register(contents), { type: 'registered' })
  t.match(await c.register(contents.map((h) => ({ ...h, bitfield: new Uint8Array(h.bitfield.length) }))), { type: 'registered' }, 'a resync')
  t.match(await c.register(contents), { type: 'error', code: ErrorCode.RATE_LIMITED }, 'the same again at once is over the rate')
  t.equal(tracker.stats().totals.rateLimited, 1)
  t.equal(tracker.contentStats(toHex(contents[0].content))?.availability.mean, 0, 'the entry is the last accepted one')
  t.match(await c.register([{ content: randomContent(), chunkCount: 8, bitfield: Uint8Array.of(0xff) }]), { type: 'registered' }, 'a small register still fits')
  const refused = await TestClient.connect(tracker.url)
  t.teardown(() => refused.ws.terminate())
  for (let i = 0; i < 2; i++) t.match(await refused.register([...contents, contents[0]]), { type: 'error', code: ErrorCode.BAD_MESSAGE }, 'a register the index refuses')
  t.match(await refused.register(contents), { type: 'registered' }, 'costs only its frame: after two of them the whole claim still fits')
  await stillServed()
})

t.test('contents per peer are limited', async (t) => {
  const tracker = await createTestTracker(t, { limits: { maxContentsPerPeer: 2 } })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  const contents = [0, 1, 2].map(() => ({ content: randomContent(), chunkCount: 1, bitfield: Uint8Array.of(0) }))
  t.match(await c.register(contents), { type: 'error', code: ErrorCode.LIMIT_EXCEEDED })
  t.match(await c.register(contents.slice(0, 2)), { type: 'registered' })
})

t.test('a token guards register and per-content stats, not health', async (t) => {
  const tracker = await createTestTracker(t, { token: 's3cret' })
  const anonymous = await TestClient.connect(tracker.url)
  t.match(await anonymous.register([]), { type: 'error', code: ErrorCode.AUTH })
  t.equal((await anonymous.closed).code, CloseCode.AUTH_FAILED)
  const wrong = await TestClient.connect(tracker.url)
  t.match(await wrong.register([], { token: 's3creT' }), { type: 'error', code: ErrorCode.AUTH })
  const member = await TestClient.connect(tracker.url)
  t.teardown(() => member.ws.terminate())
  t.match(await member.register([{ content: CONTENT, chunkCount: 1, bitfield: Uint8Array.of(0x80) }], { token: 's3cret' }), { type: 'registered' })
  const path = `${tracker.httpUrl}/stats/contents/${Buffer.from(CONTENT).toString('hex')}`
  t.equal((await fetch(path)).status, 401)
  t.equal((await fetch(path, { headers: { authorization: 'Bearer nope' } })).status, 401)
  t.match(await (await fetch(path, { headers: { authorization: 'Bearer s3cret' } })).json(), { peers: 1, seeders: 1 })
  t.equal((await fetch(`${tracker.httpUrl}/healthz`)).status, 200)
  t.equal((await fetch(`${tracker.httpUrl}/stats`)).status, 200)
})

t.test('options are checked', async (t) => {
  const { createTracker } = await import('../src/index.js')
  t.throws(() => createTracker({ port: 70_000 }), { code: ErrorCode.INVALID_ARGUMENT, message: /port/ })
  t.throws(() => createTracker({ token: '' }), { code: ErrorCode.INVALID_ARGUMENT, message: /token/ })
  t.throws(() => createTracker({ host: '' }), { code: ErrorCode.INVALID_ARGUMENT, message: /host/ })
  t.throws(() => createTracker({ limits: { messageRate: 0 } }), { code: ErrorCode.INVALID_ARGUMENT, message: /messageRate/ })
})

/** Opens a WebSocket and resolves with 'open', or with the HTTP status that refused the upgrade. */
function tryConnect(url: string, headers: Record<string, string> = {}): Promise<{ status: number | 'open'; ws: WebSocket }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ status: 'open', ws }))
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ws })
      res.resume()
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

t.test('connections past the per-address limit are refused with 429 before the upgrade', async (t) => {
  const tracker = await createTestTracker(t, { limits: { maxConnectionsPerIp: 2 } })
  const a = await TestClient.connect(tracker.url)
  const b = await TestClient.connect(tracker.url)
  t.teardown(() => { a.ws.terminate(); b.ws.terminate() })
  await a.register([{ content: CONTENT, chunkCount: 8, bitfield: Bitfield.full(8).bytes }])
  t.equal((await tryConnect(tracker.url)).status, 429, 'a third from the same address is refused')
  t.equal(tracker.stats().totals.connectionsRefused, 1, 'and counted')
  t.equal(tracker.stats().connections, 2)
  t.match(await a.request({ type: 'find', content: CONTENT, wanted: Bitfield.full(8).bytes, max: 0, chunks: false }), { type: 'sources' }, 'the connections within the limit are served')
  b.ws.close()
  await b.closed
  // The tracker counts the place free once its side of the connection has closed too.
  const again = await eventually(async () => {
    const attempt = await tryConnect(tracker.url)
    if (attempt.status === 'open') t.teardown(() => attempt.ws.terminate())
    return attempt.status === 'open'
  }, 50, 20)
  t.ok(again, 'a place freed by a close is taken again')
  t.equal((await tryConnect(tracker.url)).status, 429, 'and the limit still holds')
})

t.test('behind a trusted proxy the limit counts forwarded addresses, an IPv6 /64 as one', async (t) => {
  const tracker = await createTestTracker(t, { trustProxy: true, limits: { maxConnectionsPerIp: 1 } })
  const open: WebSocket[] = []
  t.teardown(() => open.forEach((ws) => ws.terminate()))
  const status = async (forwardedFor: string) => {
    const attempt = await tryConnect(tracker.url, { 'x-forwarded-for': forwardedFor })
    if (attempt.status === 'open') open.push(attempt.ws)
    return attempt.status
  }
  t.equal(await status('203.0.113.1'), 'open')
  t.equal(await status('203.0.113.2'), 'open', 'another address has a place of its own')
  t.equal(await status('203.0.113.1'), 429)
  t.equal(await status('2001:db8:1:2::5'), 'open')
  t.equal(await status('2001:db8:1:2:ffff::9'), 429, 'the same /64')
  t.equal(await status('2001:db8:1:3::5'), 'open', 'the next /64')
})

t.test('a limit of 0 admits any number of connections from one address', async (t) => {
  const tracker = await createTestTracker(t, { limits: { maxConnectionsPerIp: 0 } })
  const clients = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(tracker.url)))
  t.teardown(() => clients.forEach((c) => c.ws.terminate()))
  t.equal(tracker.stats().connections, 20)
  t.equal(tracker.stats().totals.connectionsRefused, 0)
})
