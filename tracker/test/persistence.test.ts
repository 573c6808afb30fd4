import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Level } from 'level'
import { Bitfield, ErrorCode, contentIdOf, toHex } from '@shoal/protocol'
import { createTracker } from '../src/index.js'
import { createTestTracker } from '../src/testing.js'
import { TestClient, randomContent } from './lib/client.js'
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
  t.match(await joiner.request({ type: 'unregister', content }), { type: 'ok' })
  t.same(tracker.contentStats(toHex(content)), { peers: 0, seeders: 0, chunkCount: 4, availability: { min: 0, mean: 0 }, underReplicatedChunks: 4 }, 'known by manifest only')
})

t.test('contents are named from what the store keeps; a store from before names were kept is named once from its manifests', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tracker-names-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const manifest = manifestBytes(3, 'old.iso')
  const fresh = manifestBytes(2, 'new.tar')
  const ids = [contentIdOf(manifest), randomContent(), contentIdOf(fresh)]
  const [old, broken, added] = ids.map(toHex)
  // Written as a tracker of an earlier version would have: a manifest and its chunk count, no name.
  const legacy = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
  await legacy.open()
  await legacy.batch()
    .put(old, manifest, { sublevel: legacy.sublevel<string, Uint8Array>('manifest', { valueEncoding: 'view' }) })
    .put(old, 3 as never, { sublevel: legacy.sublevel<string, number>('chunk-count', { valueEncoding: 'json' }) })
    .put(broken, Uint8Array.of(1, 2, 3), { sublevel: legacy.sublevel<string, Uint8Array>('manifest', { valueEncoding: 'view' }) })
    .put(broken, 2 as never, { sublevel: legacy.sublevel<string, number>('chunk-count', { valueEncoding: 'json' }) })
    .write()
  await legacy.close()

  const tracker = await createTestTracker(t, { dataDir, mostShared: 3 })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  t.match(await c.request({ type: 'publish', manifest: fresh }), { type: 'ok' })
  await c.register(ids.map((content, i) => ({ content, chunkCount: [3, 2, 2][i], bitfield: new Uint8Array(1) })))
  const res = await fetch(`${tracker.httpUrl}/stats`)
  t.equal(res.status, 200, 'a stored manifest that no longer passes the check does not break /stats')
  const names = Object.fromEntries(((await res.json()) as { mostShared: { content: string; name?: string }[] }).mostShared.map((c) => [c.content, c.name]))
  t.same(names, { [old]: 'old.iso', [broken]: undefined, [added]: 'new.tar' }, 'named where the manifest is valid')
  t.equal(tracker.stats().manifestBytes, manifest.length + 3 + fresh.length, 'the sizes of manifests stored before sizes were kept are measured')
  await tracker.close()

  const reopened = new Level<string, string>(dataDir)
  t.teardown(() => reopened.close())
  const stored = reopened.sublevel<string, string>('name', { valueEncoding: 'utf8' })
  t.same(await stored.getMany([old, broken, added]), ['old.iso', undefined, 'new.tar'], 'names are stored: with a publish, and once decoded')
})

t.test('a tracker closed without having listened leaves the stored counters as they were', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tracker-unopened-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const first = await createTestTracker(t, { dataDir })
  const c = await TestClient.connect(first.url)
  await c.register()
  await first.close()
  await createTracker({ host: '127.0.0.1', port: 0, dataDir }).close()
  const third = await createTestTracker(t, { dataDir })
  t.equal(third.stats().totals.register, 1, 'the count from the first run survived')
})
