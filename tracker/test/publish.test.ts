import t from 'tap'
import { ErrorCode, contentIdOf, toHex } from '@shoal/protocol'
import { createTestTracker } from '../src/testing.js'
import { TestClient } from './lib/client.js'
import { manifestBytes } from './lib/manifests.js'

t.test('the same manifest published on two connections at once is checked and stored once', async (t) => {
  const tracker = await createTestTracker(t)
  const clients = await Promise.all([0, 1].map(() => TestClient.connect(tracker.url)))
  t.teardown(() => clients.forEach((c) => c.ws.terminate()))
  for (const c of clients) await c.register()
  const manifest = manifestBytes(2000)
  const replies = await Promise.all(clients.flatMap((c) => [c.request({ type: 'publish', manifest }), c.request({ type: 'publish', manifest })]))
  t.same(replies.map((r) => r.type), ['ok', 'ok', 'ok', 'ok'], 'every publish acknowledged')
  t.equal(tracker.stats().totals.manifestsPublished, 1, 'stored once')
  t.equal(tracker.contentStats(toHex(contentIdOf(manifest)))?.chunkCount, 2000)
})

t.test('one connection\'s publishes are checked one at a time, in order, and a bad one fails alone', async (t) => {
  const tracker = await createTestTracker(t)
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  const good = [manifestBytes(3000, 'a.bin'), manifestBytes(10, 'b.bin')]
  const bad = Uint8Array.from(good[1]).fill(0, 0, 4)
  const replies = await Promise.all([c.request({ type: 'publish', manifest: good[0] }), c.request({ type: 'publish', manifest: bad }), c.request({ type: 'publish', manifest: good[1] })])
  t.match(replies, [{ type: 'ok' }, { type: 'error', code: ErrorCode.BAD_MANIFEST }, { type: 'ok' }])
  t.equal(tracker.stats().manifests, 2, 'both good ones stored')
  t.match(await c.request({ type: 'find', content: new Uint8Array(32), wanted: new Uint8Array(0), max: 0, chunks: true }), { type: 'sources' }, 'the connection reads frames again')
})

t.test('a connection whose publish is still being checked is not expired: the tracker stopped reading it, not the peer talking', async (t) => {
  const ttlMs = 400
  const tracker = await createTestTracker(t, { ttlMs, sweepIntervalMs: 5 })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  const started = performance.now()
  // The check of 8 MiB of manifest takes seconds on a loaded machine: that is the point, so it gets time.
  t.match(await c.request({ type: 'publish', manifest: manifestBytes(262_144, 'large.bin') }, 30_000), { type: 'ok' })
  t.ok(performance.now() - started > 2 * ttlMs, 'the check outlasted the ttl (the case under test)')
  t.equal(tracker.stats().totals.expired, 0, 'not expired while waiting')
  t.equal(tracker.stats().peersOnline, 1)
})

t.test('the bytes of manifests kept are bounded: past the limit a publish is refused, one already stored is still acknowledged', async (t) => {
  const first = manifestBytes(10, 'first.bin')
  const tracker = await createTestTracker(t, { limits: { maxManifestBytes: 2 * first.length + 100 } })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  const second = manifestBytes(10, 'other.bin')
  t.match(await c.request({ type: 'publish', manifest: first }), { type: 'ok' })
  t.match(await c.request({ type: 'publish', manifest: second }), { type: 'ok' })
  t.equal(tracker.stats().manifestBytes, first.length + second.length, 'the bytes stored show in the stats')
  t.match(await c.request({ type: 'publish', manifest: manifestBytes(10, 'third.bin') }), { type: 'error', code: ErrorCode.LIMIT_EXCEEDED })
  t.match(await c.request({ type: 'publish', manifest: first }), { type: 'ok' }, 'a stored one is acknowledged')
  t.equal(tracker.stats().manifests, 2)
})

