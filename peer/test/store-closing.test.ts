import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { ErrorCode } from '@shoal/protocol'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { DiskChunkStore } from '../src/store/disk-store.js'
import { tempDir } from './helpers.js'

const CHUNK = 16 * 1024

/** A store whose hashing waits until the test opens the gate: a write stays under way as long as the test needs. */
async function gatedStore(t: Test, dir: string) {
  let open: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (open = resolve))
  let hashing: () => void = () => undefined
  const started = new Promise<void>((resolve) => (hashing = resolve))
  const store = new DiskChunkStore({
    location: join(dir, 'db'),
    digest: async (data) => {
      hashing()
      await gate
      return createHash('sha256').update(data).digest()
    },
  })
  await store.open()
  const data = randomBytes(4 * CHUNK)
  const source = join(dir, 'source.bin')
  await writeFile(source, data)
  const built = await manifestFromPath(source, { chunkSize: CHUNK })
  const record = await store.add({ manifestBytes: built.bytes, root: join(dir, 'out.bin'), role: 'download', trackers: [] })
  t.teardown(() => store.close().catch(() => undefined))
  return { store, record, data, open, started }
}

/** Whether `p` has settled after the event loop has turned a few times (the store's own steps are all I/O-free here). */
async function settledSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false
  void p.then(() => (settled = true), () => (settled = true))
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  return settled
}

t.test('remove waits for a write under way; the write then fails as not found and records nothing', async (t) => {
  const { store, record, data, open, started } = await gatedStore(t, await tempDir(t))
  const writing = store.write(record.id, 0, data.subarray(0, CHUNK))
  await started
  const removing = store.remove(record.id)
  t.notOk(await settledSoon(removing), 'remove waits while the chunk is being hashed')
  open()
  await t.rejects(writing, { code: ErrorCode.NOT_FOUND }, 'the write reports the content gone')
  await removing
  t.equal(store.get(record.id), undefined, 'the content is gone')
  await t.rejects(store.write(record.id, 1, data.subarray(CHUNK, 2 * CHUNK)), { code: ErrorCode.NOT_FOUND }, 'later writes are refused')
})

t.test('close waits for a write under way, which is recorded; writes after close are refused', async (t) => {
  const dir = await tempDir(t)
  const { store, record, data, open, started } = await gatedStore(t, dir)
  const writing = store.write(record.id, 2, data.subarray(2 * CHUNK, 3 * CHUNK))
  await started
  const closing = store.close()
  t.notOk(await settledSoon(closing), 'close waits while the chunk is being hashed')
  await t.rejects(store.write(record.id, 3, data.subarray(3 * CHUNK)), { code: ErrorCode.NOT_FOUND }, 'a write after close began is refused')
  open()
  await t.resolves(writing, 'the write under way completes')
  await closing
  const reopened = new DiskChunkStore({ location: join(dir, 'db') })
  await reopened.open()
  t.teardown(() => reopened.close())
  t.ok(reopened.get(record.id)?.have.has(2), 'and its chunk is marked verified after a restart')
  t.notOk(reopened.get(record.id)?.have.has(3), 'the refused one is not')
})
