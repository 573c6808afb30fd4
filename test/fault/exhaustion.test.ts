import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import type { Test } from 'tap'
import WebSocket from 'ws'
import { Bitfield, bytesEqual, ErrorCode, fromHex, MAX_CHUNKS, PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import { randomFile, startPeer, startTracker, tempDir, waitUntil, within } from '@shoal/testkit'
import type { TestPeerOptions } from '@shoal/testkit'
import { checkTracker, newCheckerResult } from '../lib/fault-checkers.js'
import type { CheckerResult } from '../lib/fault-checkers.js'
import { nextEvent } from '../lib/fault-events.js'
import { craftManifest } from '../lib/fault-manifest.js'
import type { CraftedManifest } from '../lib/fault-manifest.js'
import { mib, MiB, ResourceSampler, rssOf } from '../lib/fault-process.js'
import { StalledClient } from '../lib/fault-stalled-client.js'
import { RawTrackerClient } from '../lib/fault-tracker-client.js'
import { startTunedTracker, statsOf } from '../lib/fault-tracker.js'
import { RawWireClient } from '../lib/fault-wire-client.js'

const run = promisify(execFile)

/**
 * Publishes a small manifest and starts the well-behaved client pair on it; `done()` lets
 * it run a few more rounds (so it is seen working after whatever the test did), then stops
 * it and returns what it saw.
 */
async function withChecker(url: string): Promise<{ content: CraftedManifest; done: () => Promise<CheckerResult> }> {
  const content = craftManifest({ name: 'checked.bin', kind: 'file', files: [{ path: 'checked.bin', size: 20 * 16 * 1024 }] })
  const publisher = await RawTrackerClient.connect(url)
  await publisher.register([])
  await publisher.request({ type: 'publish', manifest: content.bytes })
  publisher.terminate()
  const stop = new AbortController()
  const progress = newCheckerResult()
  const checking = checkTracker(url, { id: content.id, chunkCount: content.chunkCount, manifest: content.bytes }, stop.signal, progress)
  let failed = false
  checking.catch(() => (failed = true)) // awaited in done()
  return {
    content,
    done: async () => {
      const target = progress.rounds + 5
      await waitUntil(() => failed || progress.rounds >= target, { timeoutMs: 20_000, what: 'five more rounds of the well-behaved client' })
      stop.abort()
      return checking
    },
  }
}

let largest: CraftedManifest | undefined

/** A manifest of MAX_CHUNKS chunks, about 8 MiB: the largest a file can have (made once, it takes seconds). */
function largestManifest(): CraftedManifest {
  largest ??= craftManifest({ name: 'big.bin', kind: 'file', files: [{ path: 'big.bin', size: MAX_CHUNKS * 16 * 1024 }] })
  return largest
}

/** A tracker and a daemon seeding a random file of `size` bytes cut in `chunkSize` chunks. */
async function seeding(t: Test, size: number, chunkSize: number, over: TestPeerOptions = {}) {
  const tracker = await startTracker(t)
  const dir = await tempDir(t, 'shoal-seeding-')
  const file = join(dir, 'payload.bin')
  await randomFile(file, size)
  const seeder = await startPeer(t, { trackers: [tracker.url], ...over })
  const shared = await seeder.api.share(file, { chunkSize })
  return { seeder, shared, file, content: fromHex(shared.id, 32)! }
}

function served(t: Test, seen: CheckerResult): void {
  t.same(seen.wrong, [], 'the well-behaved client got only correct answers')
  t.ok(seen.rounds >= 5, `and kept being served: ${seen.rounds} rounds, slowest ${seen.worstMs.toFixed(0)} ms`)
}

t.test('thousands of connections that never register are closed after the register timeout', async (t) => {
  // The shoal-tracker CLI has no flag for the register timeout (10 s); the library option is used here.
  const timeoutMs = 2000
  const sweepMs = 200
  // All of them from 127.0.0.1: the per-address limit is lifted so that the timeout is what is tested.
  const tracker = await startTunedTracker(t, { registerTimeoutMs: timeoutMs, sweepIntervalMs: sweepMs, limits: { maxConnectionsPerIp: 0 } })
  const checker = await withChecker(tracker.url)
  const baseline = await rssOf(tracker.child.pid)
  const sampler = new ResourceSampler(tracker.child.pid)
  const count = 2000
  const lives: { code: number; ms: number }[] = []
  const sockets: WebSocket[] = []
  t.teardown(() => sockets.forEach((ws) => ws.terminate()))
  const started = performance.now()
  let unopened = 0
  // Opened 200 at a time (the listen backlog is finite); none ever sends a frame.
  for (let wave = 0; wave < count / 200; wave++) {
    await Promise.all(Array.from({ length: 200 }, async () => {
      const ws = new WebSocket(tracker.url, { perMessageDeflate: false })
      sockets.push(ws)
      ws.on('error', () => undefined)
      const closed = nextEvent(ws, 'close')
      if ((await nextEvent(ws, 'open', 10_000, closed)) === undefined) {
        unopened++
        return
      }
      const opened = performance.now()
      void closed.then((args) => lives.push({ code: args![0] as number, ms: performance.now() - opened }))
    }))
  }
  const openMs = performance.now() - started
  t.equal(unopened, 0, 'every connection opened')
  await waitUntil(() => lives.length === count - unopened, { timeoutMs: timeoutMs + 15_000, what: `all ${count} idle connections closed` })
  sampler.stop()
  const codes = new Map<number, number>()
  for (const l of lives) codes.set(l.code, (codes.get(l.code) ?? 0) + 1)
  const slowest = Math.max(...lives.map((l) => l.ms))
  const quickest = Math.min(...lives.map((l) => l.ms))
  t.comment(`${count} idle connections opened in ${openMs.toFixed(0)} ms; lived ${quickest.toFixed(0)}–${slowest.toFixed(0)} ms; tracker RSS ${mib(baseline)} → peak ${mib(sampler.peakRss)}`)
  t.same([...codes], [[4000, count]], 'every one was closed with 4000 REGISTER_TIMEOUT')
  t.ok(quickest >= timeoutMs - 100, 'none before the timeout')
  t.ok(slowest <= timeoutMs + sweepMs + 3000, 'each soon after it (one sweep, plus slack for a loaded machine)')
  const stats = await tracker.stats()
  t.equal(stats.connections, 2, 'only the well-behaved clients remain connected')
  t.ok(stats.totals.registerTimeouts >= count, `${stats.totals.registerTimeouts} register timeouts counted`)
  t.ok(sampler.peakRss - baseline < 100 * MiB, `RSS grew by ${mib(sampler.peakRss - baseline)} for ${count} connections`)
  served(t, await checker.done())
})

t.test('a client that never reads its replies is dropped as a slow consumer instead of growing the send buffer', async (t) => {
  const tracker = await startTracker(t)
  const checker = await withChecker(tracker.url)
  // Each get-manifest reply is 8 MiB.
  const big = largestManifest()
  const publisher = await RawTrackerClient.connect(tracker.url)
  await publisher.register([])
  t.equal((await publisher.request({ type: 'publish', manifest: big.bytes }, 30_000)).type, 'ok', `${mib(big.bytes.length)} manifest published`)
  publisher.terminate()
  const baseline = await rssOf(tracker.child.pid)
  const sampler = new ResourceSampler(tracker.child.pid, 100)
  const stalled = await StalledClient.connect(tracker.url)
  t.teardown(() => stalled.destroy())
  stalled.send(trackerCodec.encode({ type: 'register', id: 1, version: PROTOCOL_VERSION, peerId: new Uint8Array(16).fill(7), key: new Uint8Array(16), port: 9, contents: [] }))
  const registered = trackerCodec.decode(await stalled.receiveSmall())
  t.equal(registered.type, 'registered')
  stalled.stopReading()
  for (let id = 2; id < 6; id++) stalled.send(trackerCodec.encode({ type: 'get-manifest', id, content: big.id }))
  const stats = await waitUntil(async () => {
    const s = await statsOf(tracker.httpUrl)
    return s.totals.slowConsumers >= 1 && s.connections === 2 ? s : undefined
  }, { timeoutMs: 15_000, intervalMs: 100, what: 'the stalled client dropped' })
  sampler.stop()
  t.equal(stats.totals.slowConsumers, 1, 'counted as a slow consumer')
  t.equal(stats.peersOnline, 2, 'and its peer entry is gone')
  t.comment(`tracker RSS ${mib(baseline)} before, peak ${mib(sampler.peakRss)} with ~${mib(4 * big.bytes.length)} of replies unread`)
  t.ok(sampler.peakRss - baseline < 128 * MiB, `RSS grew by ${mib(sampler.peakRss - baseline)} (limit 128 MiB)`)
  served(t, await checker.done())
})

t.test('publishing the largest manifest again and again neither stalls other peers nor costs hundreds of MiB', async (t) => {
  const tracker = await startTracker(t)
  const big = largestManifest()
  const checker = await withChecker(tracker.url)
  const baseline = await rssOf(tracker.child.pid)
  const sampler = new ResourceSampler(tracker.child.pid, 100)
  const publisher = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => publisher.terminate())
  await publisher.register([])
  const started = performance.now()
  // The same bytes four times: after the first, there is nothing new to store.
  const replies = await Promise.all(Array.from({ length: 4 }, () => publisher.request({ type: 'publish', manifest: big.bytes }, 60_000)))
  const tookMs = performance.now() - started
  sampler.stop()
  t.same(replies.map((r) => r.type), ['ok', 'ok', 'ok', 'ok'], 'all four acknowledged')
  const seen = await checker.done()
  t.comment(`4 publishes of ${mib(big.bytes.length)} took the tracker ${(tookMs / 1000).toFixed(1)} s; RSS ${mib(baseline)} → peak ${mib(sampler.peakRss)}; the well-behaved client's slowest round ${seen.worstMs.toFixed(0)} ms`)
  t.same(seen.wrong, [], 'the well-behaved client got only correct answers')
  t.ok(seen.worstMs < 1000, `other peers wait less than a second for an answer meanwhile (slowest: ${seen.worstMs.toFixed(0)} ms)`)
  t.ok(sampler.peakRss - baseline < 128 * MiB, `RSS grew by ${mib(sampler.peakRss - baseline)} (limit 128 MiB)`)
})

t.test('a message flood is rate limited (ERR_RATE_LIMITED, then close 4007) and its peer dropped', async (t) => {
  const tracker = await startTracker(t)
  const checker = await withChecker(tracker.url)
  const flooder = await RawTrackerClient.connect(tracker.url)
  const content = checker.content
  const held = Bitfield.full(content.chunkCount)
  await flooder.register([{ content: content.id, chunkCount: content.chunkCount, bitfield: held.bytes }])
  for (let i = 0; i < 10_000 && flooder.isOpen; i++) flooder.send({ type: 'heartbeat', load: 0.5 })
  const closed = await within(flooder.closed, 15_000, () => new Error('not closed')).catch(() => undefined)
  const limited = flooder.errors.filter((e) => e.code === ErrorCode.RATE_LIMITED).length
  t.comment(`${limited} ERR_RATE_LIMITED replies before the close`)
  t.ok(limited > 0, 'the flood got ERR_RATE_LIMITED replies')
  t.equal(closed?.code, 4007, 'then the connection was closed with 4007 RATE_LIMITED')
  const holder = await RawTrackerClient.connect(tracker.url)
  await holder.register([{ content: content.id, chunkCount: content.chunkCount, bitfield: held.bytes }])
  const asker = await RawTrackerClient.connect(tracker.url)
  await asker.register([])
  const sources = await asker.request({ type: 'find', content: content.id, wanted: held.bytes, max: 200, chunks: true })
  t.equal(sources.type, 'sources', 'the find is answered')
  const handedOut = sources.type === 'sources' ? sources.peers.map((p) => p.peerId) : []
  t.ok(handedOut.some((id) => bytesEqual(id, holder.peerId)), 'a holder still connected is handed out')
  t.notOk(handedOut.some((id) => bytesEqual(id, flooder.peerId)), 'the flooder is no longer handed out')
  asker.terminate()
  holder.terminate()
  served(t, await checker.done())
})

t.test('tracker: bitfields of the wrong length, chunks out of range and absurd chunk counts are refused', async (t) => {
  const tracker = await startTracker(t)
  const content = craftManifest({ name: 'ten.bin', kind: 'file', files: [{ path: 'ten.bin', size: 10 * 16 * 1024 - 5 }] })
  const client = await RawTrackerClient.connect(tracker.url)
  await client.register([])
  await client.request({ type: 'publish', manifest: content.bytes })
  const codeOf = async (msg: Parameters<RawTrackerClient['request']>[0]): Promise<string> => {
    const reply = await client.request(msg)
    return reply.type === 'error' ? reply.code : reply.type
  }
  const register = (chunkCount: number, bitfield: Uint8Array, id = content.id) => codeOf({
    type: 'register', version: PROTOCOL_VERSION, peerId: client.peerId, key: client.key, port: 9, contents: [{ content: id, chunkCount, bitfield }],
  })
  t.equal(await register(10, new Uint8Array(3)), ErrorCode.BAD_MESSAGE, 'a bitfield longer than the content')
  t.equal(await register(10, new Uint8Array(1)), ErrorCode.BAD_MESSAGE, 'a bitfield shorter than the content')
  t.equal(await register(10, Uint8Array.from([0, 0x3f])), ErrorCode.BAD_MESSAGE, 'spare bits set')
  t.equal(await register(11, new Uint8Array(2)), ErrorCode.BAD_MESSAGE, 'a chunk count other than the manifest\'s')
  t.equal(await register(MAX_CHUNKS + 1, new Uint8Array(MAX_CHUNKS / 8 + 1)), ErrorCode.BAD_MESSAGE, 'a chunk count over MAX_CHUNKS')
  t.equal(await register(10, new Uint8Array(2)), 'registered', 'the right one is accepted')
  t.equal(await codeOf({ type: 'find', content: content.id, wanted: new Uint8Array(3), max: 0, chunks: true }), ErrorCode.BAD_MESSAGE, 'find: wanted longer than the content')
  t.equal(await codeOf({ type: 'find', content: content.id, wanted: Uint8Array.from([0xff, 0xff]), max: 0, chunks: true }), ErrorCode.BAD_MESSAGE, 'find: wanted with spare bits')
  client.send({ type: 'have', content: content.id, chunks: [3, 10] })
  client.send({ type: 'have', content: content.id, chunks: [MAX_CHUNKS - 1] })
  client.send({ type: 'lost', content: content.id, chunks: [12] })
  await client.flush()
  const outOfRange = client.errors.filter((e) => e.code === ErrorCode.OUT_OF_RANGE)
  t.equal(outOfRange.length, 3, 'have and lost beyond the chunk count: ERR_OUT_OF_RANGE each')
  const asker = await RawTrackerClient.connect(tracker.url)
  await asker.register([])
  const sources = await asker.request({ type: 'find', content: content.id, wanted: Bitfield.full(10).bytes, max: 0, chunks: true })
  t.same(sources.type === 'sources' ? sources.peers.length : -1, 0, 'a refused have changed nothing (not even chunk 3 of the same message)')
  t.ok(client.isOpen, 'all of these stay within the invalid budget: the connection is still open')
  client.terminate()
  asker.terminate()
})

t.test('tracker: one connection registering absurd chunk counts neither takes the index from others nor hundreds of MiB', async (t) => {
  const tracker = await startTracker(t)
  const baseline = await rssOf(tracker.child.pid)
  const attacker = await RawTrackerClient.connect(tracker.url)
  const claim = (count: number) => attacker.request({
    type: 'register', version: PROTOCOL_VERSION, peerId: attacker.peerId, key: attacker.key, port: 9,
    contents: Array.from({ length: count }, (_, i) => ({ content: new Uint8Array(32).fill(i + 1), chunkCount: MAX_CHUNKS, bitfield: new Uint8Array(MAX_CHUNKS / 8) })),
  }, 30_000)
  // 128 contents nobody published, each of the largest chunk count: 2^25 chunks, the
  // default index-wide budget, in one register frame of about 4 MiB.
  const all = await claim(128)
  t.equal(all.type === 'error' && all.code, ErrorCode.LIMIT_EXCEEDED, 'claiming the whole index is refused: more than one peer\'s share')
  // Half of that is one peer's whole share (2^24 chunks); holding none of them costs no availability.
  const share = await claim(64)
  t.equal(share.type, 'registered', 'one peer\'s whole share is accepted')
  const grown = (await rssOf(tracker.child.pid)) - baseline
  t.comment(`tracker RSS grew by ${mib(grown)} for 2^24 chunks claimed and none held (${(grown / 2 ** 24).toFixed(2)} bytes a chunk)`)
  const honest = await RawTrackerClient.connect(tracker.url)
  const real = craftManifest({ name: 'real.bin', kind: 'file', files: [{ path: 'real.bin', size: 1000 * 16 * 1024 }] })
  await honest.register([])
  await honest.request({ type: 'publish', manifest: real.bytes })
  const joined = await honest.request({ type: 'register', version: PROTOCOL_VERSION, peerId: honest.peerId, key: honest.key, port: 9, contents: [{ content: real.id, chunkCount: real.chunkCount, bitfield: Bitfield.full(real.chunkCount).bytes }] })
  t.equal(joined.type, 'registered', `an honest peer can still register a published content (got ${joined.type === 'error' ? joined.code : joined.type})`)
  t.ok(grown < 64 * MiB, `one connection made the tracker allocate ${mib(grown)} (limit 64 MiB)`)
  attacker.terminate()
  honest.terminate()
})

t.test('peer wire: requests beyond a chunk, the content or the queue are refused and the connection keeps working', async (t: Test) => {
  const chunkSize = 16 * 1024
  // Four chunks, the last one 100 bytes long; uploads slow enough for a queue to build.
  const { seeder, file, content } = await seeding(t, 3 * chunkSize + 100, chunkSize, { uploadLimit: '64K' })
  const data = await readFile(file)
  const client = await RawWireClient.connect('127.0.0.1', seeder.port)
  t.teardown(() => client.close())
  t.same(await client.handshake(content), Bitfield.full(4).bytes, 'handshake: every chunk held')
  const rejected = async (chunk: number, offset: number, length: number): Promise<string> => {
    const reply = await client.request(content, chunk, offset, length)
    return reply.type === 'reject' ? reply.code : reply.type
  }
  t.equal(await rejected(4, 0, 100), ErrorCode.OUT_OF_RANGE, 'the chunk after the last')
  t.equal(await rejected(MAX_CHUNKS - 1, 0, 1), ErrorCode.OUT_OF_RANGE, 'the largest chunk index there is')
  t.equal(await rejected(3, 0, 101), ErrorCode.OUT_OF_RANGE, 'one byte past the short last chunk')
  t.equal(await rejected(3, 100, 1), ErrorCode.OUT_OF_RANGE, 'an offset at the end of the last chunk')
  t.equal(await rejected(0, chunkSize - 10, 11), ErrorCode.OUT_OF_RANGE, 'a range running past a chunk')
  t.equal(await rejected(1, 0, 0), ErrorCode.OUT_OF_RANGE, 'an empty range')
  const other = await client.request(new Uint8Array(32).fill(9), 0, 0, 10)
  t.equal(other.type === 'reject' && other.code, ErrorCode.BAD_MESSAGE, 'a request naming another content')
  client.sendFrame(trackerCodec.encode({ type: 'ok', id: 5 }).fill(0xc1, 1))
  const garbage = await client.next((m) => m.type === 'error')
  t.equal(garbage.type === 'error' && garbage.code, ErrorCode.BAD_MESSAGE, 'an undecodable frame gets an error')
  const last = await client.request(content, 3, 99, 1)
  t.ok(last.type === 'piece' && last.data.length === 1 && last.data[0] === data[data.length - 1], 'the very last byte is served')
  // 600 pipelined requests of whole chunks at 64 KiB/s (4 a second): the queue (512) fills
  // at once, and what does not fit is refused at once. The chunks go round, as the seeder's
  // spread policy refuses a chunk already handed out more often than another while it is
  // saturated.
  const answers = new Map<string, number>()
  for (let i = 0; i < 600; i++) {
    void client.request(content, i % 4, 0, i % 4 === 3 ? 100 : chunkSize, 60_000).then(
      (r) => answers.set(r.type === 'reject' ? r.code : r.type, (answers.get(r.type === 'reject' ? r.code : r.type) ?? 0) + 1),
      () => undefined,
    )
  }
  await waitUntil(() => (answers.get(ErrorCode.LIMIT_EXCEEDED) ?? 0) >= 80, { timeoutMs: 10_000, what: 'requests beyond the queue refused' })
    .catch((err: Error) => t.fail(`${err.message}; answers: ${JSON.stringify(Object.fromEntries(answers))}`))
  t.comment(`600 pipelined requests: ${JSON.stringify(Object.fromEntries(answers))} answered so far`)
  t.pass('those beyond the queue limit are refused with ERR_LIMIT_EXCEEDED')
  t.ok(seeder.child.running, 'the seeder still runs')
})

t.test('peer wire: peers that stop reading their pieces do not take every upload slot', async (t) => {
  const chunkSize = 1024 * 1024
  // More than a socket's buffers hold (the kernel's plus 8 MiB in the process) per peer.
  const { seeder, content } = await seeding(t, 48 * chunkSize, chunkSize)
  // As many stalled peers as the seeder has upload slots (8 by default): each asks for every
  // chunk, then never reads again.
  const stalled = await Promise.all(Array.from({ length: 8 }, async () => {
    const client = await RawWireClient.connect('127.0.0.1', seeder.port)
    t.teardown(() => client.close())
    await client.handshake(content)
    for (let chunk = 0; chunk < 48; chunk++) void client.request(content, chunk, 0, chunkSize, 120_000).catch(() => undefined)
    // Any answer shows the seeder took the requests (a spread-policy reject counts too); on a
    // loaded machine the first one can take a while.
    await client.next((m) => m.type === 'piece' || m.type === 'busy' || m.type === 'reject', 30_000, 'a first answer')
    client.socket.pause()
    return client
  }))
  t.equal(stalled.length, 8, 'eight peers stopped reading with pieces pending')
  // A well-behaved peer asks for a chunk, coming back when told busy, for up to 10 s.
  const honest = await RawWireClient.connect('127.0.0.1', seeder.port)
  t.teardown(() => honest.close())
  await honest.handshake(content)
  const deadline = Date.now() + 10_000
  let busy = 0
  let served = false
  while (!served && Date.now() < deadline) {
    const reply = await honest.request(content, 3, 0, 1000, 10_000).catch(() => undefined)
    if (reply?.type === 'piece') served = true
    else {
      busy++
      await new Promise((resolve) => setTimeout(resolve, reply?.type === 'busy' ? reply.retryAfterMs : 1000))
    }
  }
  t.ok(served, `a well-behaved peer is served within 10 s (${busy} busy replies so far)`)
  t.ok(seeder.child.running, 'the seeder still runs')
})

t.test('one address opening hundreds of connections is refused past the per-address limit, and another address is served', async (t) => {
  const tracker = await startTracker(t)
  const sockets: WebSocket[] = []
  t.teardown(() => sockets.forEach((ws) => ws.terminate()))
  /** 'open', the HTTP status that refused the upgrade, or 'no answer' within 10 s. */
  const outcome = (ws: WebSocket) => new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => resolve('no answer'), 10_000)
    const settle = (value: number | string) => {
      clearTimeout(timer)
      resolve(value)
    }
    ws.once('open', () => settle('open'))
    ws.once('unexpected-response', (_req, res) => {
      res.resume()
      settle(res.statusCode ?? 0)
    })
    ws.once('error', (err) => settle(err.message))
  })
  const outcomes: (number | string)[] = []
  // 300 from 127.0.0.1, 100 at a time (the listen backlog is finite); none registers.
  for (let wave = 0; wave < 3; wave++) {
    outcomes.push(...await Promise.all(Array.from({ length: 100 }, () => {
      const ws = new WebSocket(tracker.url, { perMessageDeflate: false })
      sockets.push(ws)
      return outcome(ws)
    })))
  }
  const counts = new Map<number | string, number>()
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1)
  t.same(Object.fromEntries(counts), { open: 256, 429: 44 }, 'the default limit of 256 holds; the rest get 429 Too Many Requests')
  const other = await RawTrackerClient.connect(tracker.url, '127.0.0.2')
  t.teardown(() => other.terminate())
  await other.register([{ content: fromHex('ab'.repeat(32), 32)!, chunkCount: 8, bitfield: Bitfield.full(8).bytes }])
  t.match(await other.request({ type: 'find', content: fromHex('ab'.repeat(32), 32)!, wanted: Bitfield.full(8).bytes, max: 0, chunks: false }), { type: 'sources' }, 'a peer at another address registers and is served')
  const stats = await tracker.stats()
  t.match(stats, { connections: 257, totals: { connectionsRefused: 44 } }, '/stats counts the refusals')
})

t.test('peer wire: connections that never handshake are closed after the handshake timeout', async (t) => {
  const seeder = await startPeer(t, { tuning: { connectTimeoutMs: 2000 } })
  const count = 500
  const started = performance.now()
  const lives = await Promise.all(Array.from({ length: count }, async () => {
    const socket = connect({ host: '127.0.0.1', port: seeder.port })
    socket.on('error', () => undefined)
    await nextEvent(socket, 'connect', 10_000)
    const opened = performance.now()
    await nextEvent(socket, 'close', 15_000)
    return performance.now() - opened
  }))
  t.comment(`${count} silent connections closed after ${Math.min(...lives).toFixed(0)}–${Math.max(...lives).toFixed(0)} ms (all done in ${(performance.now() - started).toFixed(0)} ms)`)
  t.ok(Math.min(...lives) >= 1500, 'none long before the handshake timeout (2 s here)')
  t.ok(Math.max(...lives) <= 2000 + 3000, 'all of them soon after it')
  t.ok(seeder.child.running, 'the peer still runs')
})

t.test('peer wire: idle connections cannot use up a daemon\'s file descriptors', async (t) => {
  const { seeder, content } = await seeding(t, 4 * 64 * 1024, 64 * 1024)
  // The open-files limit many systems start a daemon with.
  await run('prlimit', ['--nofile=1024:1024', '--pid', String(seeder.child.pid)])
  const idle: RawWireClient[] = []
  t.teardown(() => Promise.all(idle.map((c) => c.close())))
  for (let wave = 0; wave < 11; wave++) {
    await Promise.all(Array.from({ length: 100 }, async () => {
      const client = await RawWireClient.connect('127.0.0.1', seeder.port).catch(() => undefined)
      if (client === undefined) return
      idle.push(client)
      await client.handshake(content, 5000).catch(() => undefined)
    }))
  }
  const open = idle.filter((c) => !c.isClosed).length
  t.comment(`${open} of ${idle.length} idle connections still open`)
  t.ok(idle.length > 256, `more connections were made than the cap (${idle.length}), so the cap was tested`)
  t.ok(open <= 256, `no more stay open than the daemon's connection cap of 256 (${open})`)
  const honest = await RawWireClient.connect('127.0.0.1', seeder.port).catch(() => undefined)
  const reply = honest === undefined ? undefined : await honest.handshake(content, 5000).then(() => honest.request(content, 1, 0, 64 * 1024, 5000)).catch((err: Error) => err)
  await honest?.close()
  t.ok(reply !== undefined && !(reply instanceof Error) && reply.type === 'piece', `a well-behaved peer is still served (got ${reply instanceof Error ? reply.message : reply?.type})`)
  t.ok(seeder.child.running, 'the peer still runs')
})
