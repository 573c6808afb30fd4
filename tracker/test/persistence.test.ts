import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Bitfield, ErrorCode, contentIdOf, toHex } from '@shoal/protocol'
import { createTestTracker } from '../src/testing.js'
import { TestClient } from './lib/client.js'
import { manifestBytes } from './lib/manifests.js'

t.test('manifests and counters survive a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tracker-persist-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const manifest = manifestBytes(6)
  const content = contentIdOf(manifest)

  const first = await createTestTracker(t, { dataDir })
  const a = await TestClient.connect(first.url)
  await a.register()
  t.match(await a.request({ type: 'publish', manifest }), { type: 'ok' })
  t.match(await a.request({ type: 'publish', manifest }), { type: 'ok' }, 'publishing again is harmless')
  const got = await a.request({ type: 'get-manifest', content })
  t.same(got.type === 'manifest' && Buffer.from(got.manifest), Buffer.from(manifest))
  t.equal(first.stats().manifests, 1)
  await first.close()

  const second = await createTestTracker(t, { dataDir })
  const b = await TestClient.connect(second.url)
  t.teardown(() => b.ws.terminate())
  await b.register()
  const again = await b.request({ type: 'get-manifest', content })
  t.same(again.type === 'manifest' && Buffer.from(again.manifest), Buffer.from(manifest), 'served after the restart')
  const stats = second.stats()
  t.equal(stats.manifests, 1)
  t.equal(stats.totals.publish, 2, 'cumulative counters persisted')
  t.equal(stats.totals.manifestsPublished, 1)
  t.equal(stats.peersOnline, 1, 'the live index starts from re-registrations')
  t.match(await b.register([{ content, chunkCount: 7, bitfield: new Uint8Array(1) }]), { type: 'error', code: ErrorCode.BAD_MESSAGE }, 'registers must agree with the manifest')
  t.match(await b.request({ type: 'have', content, chunks: [1] }), { type: 'error', code: ErrorCode.NOT_FOUND }, 'have needs a registered content')
})

t.test('bad manifests are refused; unknown ones are not found', async (t) => {
  const tracker = await createTestTracker(t)
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  t.match(await c.request({ type: 'publish', manifest: Uint8Array.of(1, 2, 3) }), { type: 'error', code: ErrorCode.BAD_MANIFEST })
  t.match(await c.request({ type: 'get-manifest', content: new Uint8Array(32) }), { type: 'error', code: ErrorCode.NOT_FOUND })
})

t.test('a manifest settles a content’s chunk count', async (t) => {
  const tracker = await createTestTracker(t)
  const manifest = manifestBytes(4)
  const content = contentIdOf(manifest)
  const squatter = await TestClient.connect(tracker.url)
  const joiner = await TestClient.connect(tracker.url)
  t.teardown(() => { squatter.ws.terminate(); joiner.ws.terminate() })
  await squatter.register([{ content, chunkCount: 9, bitfield: Bitfield.full(9).bytes }])
  t.equal(tracker.index.chunkCountOf(toHex(content)), 9)
  await joiner.register()
  t.match(await joiner.request({ type: 'publish', manifest }), { type: 'ok' })
  t.equal(tracker.index.chunkCountOf(toHex(content)), undefined, 'the disagreeing swarm is gone')
  t.match(await joiner.register([{ content, chunkCount: 4, bitfield: Bitfield.fromIndices(4, [0, 3]).bytes }]), { type: 'registered' }, 'the manifest count is accepted')
  t.same(tracker.contentStats(toHex(content)), { peers: 1, seeders: 0, chunkCount: 4, availability: { min: 0, mean: 0.5 }, underReplicatedChunks: 4 })
  joiner.send({ type: 'unregister', content })
  t.ok(await new Promise((resolve) => setTimeout(resolve, 50, true)))
  t.same(tracker.contentStats(toHex(content)), { peers: 0, seeders: 0, chunkCount: 4, availability: { min: 0, mean: 0 }, underReplicatedChunks: 4 }, 'known by manifest only')
})
