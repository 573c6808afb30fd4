import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { TrackerStore } from '../src/store.js'

t.test('a manifest counts as stored only once it is written; its chunk count is known from the start of the write', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-tracker-store-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const store = new TrackerStore(dir)
  await store.open()
  const writing = store.putManifest('aa', Uint8Array.of(1), 5, 'a.bin')
  t.equal(store.chunkCountOf('aa'), 5, 'registers are checked against it at once')
  t.notOk(store.hasManifest('aa'), 'not acknowledged before it is on disk')
  t.equal(store.manifestCount, 0)
  await writing
  t.ok(store.hasManifest('aa'), 'stored')
  t.equal(store.manifestCount, 1)
  t.equal(await store.getName('aa'), 'a.bin', 'its name is stored with it')

  await store.close()
  await t.rejects(store.putManifest('bb', Uint8Array.of(2), 7, 'b.bin'), 'a write that fails')
  t.equal(store.chunkCountOf('bb'), undefined, 'leaves no chunk count behind')
  t.notOk(store.hasManifest('bb'))
})
