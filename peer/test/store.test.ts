import { randomBytes } from 'node:crypto'
import { cp, mkdir, readdir, readFile, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { chunkRange, encodeManifest, ErrorCode, ManifestBuilder } from '@shoal/protocol'
import type { ChunkStore } from '../src/store/chunk-store.js'
import { DiskChunkStore } from '../src/store/disk-store.js'
import { MemoryChunkStore } from '../src/store/memory-store.js'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { fill, noSmallFileSystem, smallFileSystem, tempDir } from './helpers.js'

const CHUNK = 16 * 1024

async function sampleFile(dir: string, size = 5 * CHUNK + 100): Promise<{ path: string; data: Buffer }> {
  const data = randomBytes(size)
  const path = join(dir, 'sample.bin')
  await writeFile(path, data)
  return { path, data }
}

async function sampleFolder(dir: string): Promise<string> {
  const root = join(dir, 'folder')
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true })
  await writeFile(join(root, 'b.txt'), randomBytes(CHUNK + 7))
  await writeFile(join(root, 'a.txt'), randomBytes(3000))
  await writeFile(join(root, 'empty'), '')
  await writeFile(join(root, 'sub', 'deeper', 'x'), randomBytes(2 * CHUNK))
  return root
}

const stores: Record<string, (dir: string) => ChunkStore> = {
  disk: (dir) => new DiskChunkStore({ location: join(dir, 'db') }),
  memory: () => new MemoryChunkStore(),
}

for (const [kind, make] of Object.entries(stores)) {
  t.test(`${kind} store contract`, async (t) => {
    const dir = await tempDir(t)
    const store = make(dir)
    await store.open()
    t.teardown(() => store.close())

    t.test('a seed is complete and reads back its file', async (t) => {
      const { path, data } = await sampleFile(dir)
      const built = await manifestFromPath(path, { chunkSize: CHUNK })
      const rec = await store.add({ manifestBytes: built.bytes, root: path, role: 'seed', trackers: ['ws://x'] })
      t.equal(rec.id, built.id)
      t.ok(rec.have.complete)
      t.equal(rec.have.size, 6)
      for (let c = 0; c < 6; c++) {
        const { offset, length } = chunkRange(built.manifest, c)
        t.same(await store.read(rec.id, c), data.subarray(offset, offset + length))
      }
      const into = Buffer.alloc(CHUNK + 7)
      const read = await store.read(rec.id, 2, into)
      t.same(read, data.subarray(2 * CHUNK, 3 * CHUNK), 'read into a given buffer')
      t.equal(read.buffer, into.buffer, 'in that buffer, not a new one')
      t.same(await store.read(rec.id, 3, Buffer.alloc(10)), data.subarray(3 * CHUNK, 4 * CHUNK), 'a buffer too short is not used')
      t.equal(store.get(rec.id), rec)
      t.ok(store.list().includes(rec))
      t.equal(await store.add({ manifestBytes: built.bytes, root: path, role: 'seed', trackers: [] }), rec, 'adding twice keeps the first')
      await store.write(rec.id, 0, data.subarray(0, CHUNK))
      t.ok(rec.have.complete, 'writing a held chunk changes nothing')
      await store.remove(rec.id)
      t.equal(store.get(rec.id), undefined)
      await t.rejects(store.read(rec.id, 0), { code: ErrorCode.NOT_FOUND })
      await t.rejects(store.remove(rec.id), { code: ErrorCode.NOT_FOUND })
    })

    t.test('a download takes only verified chunks', async (t) => {
      const { path, data } = await sampleFile(await tempDir(t))
      const built = await manifestFromPath(path, { chunkSize: CHUNK })
      const out = join(dir, 'out', 'nested', 'copy.bin')
      const rec = await store.add({ manifestBytes: built.bytes, root: out, role: 'download', trackers: [] })
      t.equal(rec.have.count, 0)
      await t.rejects(store.read(rec.id, 0), { code: ErrorCode.NOT_FOUND })
      const bad = Buffer.from(data.subarray(0, CHUNK))
      bad[5] ^= 1
      await t.rejects(store.write(rec.id, 0, bad), { code: ErrorCode.HASH_MISMATCH })
      await t.rejects(store.write(rec.id, 0, data.subarray(0, 10)), { code: ErrorCode.HASH_MISMATCH })
      await t.rejects(store.write(rec.id, 99, data.subarray(0, 10)), { code: ErrorCode.INVALID_ARGUMENT })
      t.notOk(rec.have.has(0))
      await Promise.all([...Array(6).keys()].map((c) => {
        const { offset, length } = chunkRange(built.manifest, c)
        return store.write(rec.id, c, data.subarray(offset, offset + length))
      }))
      t.ok(rec.have.complete)
      await store.write(rec.id, 0, data.subarray(0, CHUNK))
      t.same(await store.read(rec.id, 5), data.subarray(5 * CHUNK))
      await store.update(rec.id, { paused: true, error: 'x', trackers: ['ws://y'] })
      t.equal(rec.paused, true)
      t.same(rec.trackers, ['ws://y'])
    })

    t.test('a folder content round-trips chunk by chunk', async (t) => {
      const src = await sampleFolder(await tempDir(t))
      const built = await manifestFromPath(src, { chunkSize: CHUNK })
      t.same(built.manifest.files.map((f) => f.path), ['a.txt', 'b.txt', 'empty', 'sub/deeper/x'])
      const seed = make(await tempDir(t))
      await seed.open()
      t.teardown(() => seed.close())
      await seed.add({ manifestBytes: built.bytes, root: src, role: 'seed', trackers: [] })
      const rec = await store.add({ manifestBytes: built.bytes, root: join(dir, 'tree'), role: 'download', trackers: [] })
      for (let c = rec.have.size - 1; c >= 0; c--) await store.write(rec.id, c, await seed.read(rec.id, c))
      for (let c = 0; c < rec.have.size; c++) t.same(await store.read(rec.id, c), await seed.read(rec.id, c))
    })
  })
}

t.test('disk store: a folder downloads into the same tree, never over existing files', async (t) => {
  const dir = await tempDir(t)
  const src = await sampleFolder(dir)
  const built = await manifestFromPath(src, { chunkSize: CHUNK })
  const store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  t.teardown(() => store.close())
  await t.rejects(store.add({ manifestBytes: built.bytes, root: src, role: 'download', trackers: [] }), {
    code: ErrorCode.INVALID_ARGUMENT, message: /already exists/,
  })
  t.equal(store.get(built.id), undefined)
  const seed = new MemoryChunkStore()
  await seed.add({ manifestBytes: built.bytes, root: src, role: 'seed', trackers: [] })
  t.teardown(() => seed.close())
  const out = join(dir, 'tree')
  const rec = await store.add({ manifestBytes: built.bytes, root: out, role: 'download', trackers: [] })
  for (let c = 0; c < rec.have.size; c++) await store.write(rec.id, c, await seed.read(rec.id, c))
  for (const f of built.manifest.files) t.same(await readFile(join(out, f.path)), await readFile(join(src, f.path)), f.path)
})

t.test('disk store: a folder download gets a folder of its own; an existing one is refused and left as it was', async (t) => {
  const dir = await tempDir(t)
  const built = await manifestFromPath(await sampleFolder(dir), { chunkSize: CHUNK })
  const store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  t.teardown(() => store.close())
  const users = join(dir, 'users')
  await mkdir(users)
  await writeFile(join(users, 'mine.txt'), 'kept')
  await t.rejects(store.add({ manifestBytes: built.bytes, root: users, role: 'download', trackers: [] }), {
    code: ErrorCode.INVALID_ARGUMENT, message: `cannot create ${users}: it already exists`,
  })
  t.same(await readdir(users), ['mine.txt'], 'nothing was added to it')
  t.equal(store.get(built.id), undefined)
  const rec = await store.add({ manifestBytes: built.bytes, root: join(dir, 'new', 'tree'), role: 'download', trackers: [] })
  t.ok((await stat(join(dir, 'new', 'tree', 'sub', 'deeper', 'x'))).isFile(), 'a folder that does not exist yet is made, with its parents')
  await store.remove(rec.id)
})

t.test('disk store: a download whose files cannot all be made leaves nothing behind', async (t) => {
  const dir = await tempDir(t)
  // The second file's path fits in a manifest (4095 bytes) but, below any folder, not in the file system.
  const deep = Array.from({ length: 16 }, (_, i) => String(i).padEnd(255, 'x')).join('/')
  const builder = new ManifestBuilder({ name: 'tree', kind: 'directory', chunkSize: CHUNK, files: [{ path: 'a.bin', size: 10 }, { path: deep, size: 10 }] })
  builder.update(new Uint8Array(20))
  const manifestBytes = encodeManifest(builder.finish())
  const store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  t.teardown(() => store.close())
  const root = join(dir, 'tree')
  await t.rejects(store.add({ manifestBytes, root, role: 'download', trackers: [] }), { code: ErrorCode.INVALID_ARGUMENT, message: /: the path is too long$/ })
  await t.rejects(stat(root), { code: 'ENOENT' }, 'neither its folder nor the file made before the failure is left')
})

/** A disk store holding a partial download of a sample file (chunks `held`), closed again. */
async function partialDownload(t: Parameters<typeof tempDir>[0], held: number[]) {
  const dir = await tempDir(t)
  const { path, data } = await sampleFile(dir)
  const built = await manifestFromPath(path, { chunkSize: CHUNK })
  const out = join(dir, 'copy.bin')
  const store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  await store.add({ manifestBytes: built.bytes, root: out, role: 'download', trackers: ['ws://t'] })
  for (const c of held) await store.write(built.id, c, data.subarray(c * CHUNK, (c + 1) * CHUNK))
  await store.update(built.id, { paused: true })
  await store.close()
  return { dir, data, built, out }
}

t.test('disk store: state survives a restart', async (t) => {
  const { dir, data, built } = await partialDownload(t, [1, 3])

  const rechecks: unknown[] = []
  const store = new DiskChunkStore({ location: join(dir, 'db'), onRecheck: (...args) => rechecks.push(args) })
  await store.open()
  t.teardown(() => store.close())
  const rec = store.get(built.id)!
  t.same(rec.have.toArray(), [1, 3])
  t.equal(rec.paused, true)
  t.same(rec.trackers, ['ws://t'])
  t.equal(rec.role, 'download')
  t.same(rechecks, [], 'unchanged files are trusted without hashing')
  t.same(await store.read(built.id, 3), data.subarray(3 * CHUNK, 4 * CHUNK))
})

t.test('disk store: changes made at once are all saved', async (t) => {
  const { dir, built } = await partialDownload(t, [])
  let store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  await Promise.all([store.update(built.id, { paused: false }), store.update(built.id, { error: 'disk full' }), store.update(built.id, { trackers: ['ws://u'] })])
  await store.close()
  store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  t.teardown(() => store.close())
  t.match(store.get(built.id), { paused: false, error: 'disk full', trackers: ['ws://u'] })
})

t.test('disk store: chunks in files changed behind its back are hashed again', async (t) => {
  const { dir, data, built, out } = await partialDownload(t, [0, 2, 4])

  // Damage chunk 2 in place, keeping the size, as a crash mid-write or a stray editor would.
  const bytes = await readFile(out)
  bytes[2 * CHUNK + 1] ^= 0xff
  await writeFile(out, bytes)
  await utimes(out, new Date(), new Date(Date.now() + 5000))
  const rechecks: [string, number, number, boolean][] = []
  let store = new DiskChunkStore({ location: join(dir, 'db'), onRecheck: (...args) => rechecks.push(args) })
  await store.open()
  t.same(store.get(built.id)!.have.toArray(), [0, 4])
  t.same(rechecks, [[built.id, 3, 1, false]])
  await store.close()

  // Reopening again trusts the re-recorded state.
  rechecks.length = 0
  store = new DiskChunkStore({ location: join(dir, 'db'), onRecheck: (...args) => rechecks.push(args) })
  await store.open()
  t.same(rechecks, [])
  await store.close()

  // A download whose file vanished gets it back, empty.
  await rm(out)
  store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  t.teardown(() => store.close())
  t.same(store.get(built.id)!.have.toArray(), [])
  t.equal((await stat(out)).size, data.length)
})

t.test('disk store: a seed whose file changed loses the changed chunks and says so', async (t) => {
  const dir = await tempDir(t)
  const { path, data } = await sampleFile(dir)
  const built = await manifestFromPath(path, { chunkSize: CHUNK })
  let store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  await store.add({ manifestBytes: built.bytes, root: path, role: 'seed', trackers: [] })
  await store.close()
  await truncate(path, 2 * CHUNK + 5)
  store = new DiskChunkStore({ location: join(dir, 'db') })
  await store.open()
  t.teardown(() => store.close())
  const rec = store.get(built.id)!
  t.same(rec.have.toArray(), [0, 1])
  t.match(rec.error, /4 chunks no longer match/)
  await t.rejects(store.write(rec.id, 3, data.subarray(3 * CHUNK, 4 * CHUNK)), { code: ErrorCode.INVALID_ARGUMENT }, 'shared files are never written')
})

t.test('disk store: a shared file changed while the store is open is hashed again before more of it is served', async (t) => {
  const dir = await tempDir(t)
  const { path, data } = await sampleFile(dir)
  const built = await manifestFromPath(path, { chunkSize: CHUNK })
  const rechecks: [string, number, number, boolean][] = []
  const store = new DiskChunkStore({ location: join(dir, 'db'), sharedCheckMs: 0, onRecheck: (...args) => rechecks.push(args) })
  await store.open()
  t.teardown(() => store.close())
  const rec = await store.add({ manifestBytes: built.bytes, root: path, role: 'seed', trackers: [] })
  t.same(await store.read(rec.id, 1), data.subarray(CHUNK, 2 * CHUNK), 'served as shared')
  // Edited in place, size kept, as an editor saving over it would.
  const edited = Buffer.from(data)
  edited[CHUNK + 7] ^= 0xff
  await writeFile(path, edited)
  await utimes(path, new Date(), new Date(Date.now() + 5000))
  await t.rejects(store.read(rec.id, 1), { code: ErrorCode.NOT_FOUND }, 'the changed chunk is not served')
  t.same(rechecks, [[rec.id, 6, 1, true]], 'the file was hashed again, once')
  t.same(await store.read(rec.id, 2), data.subarray(2 * CHUNK, 3 * CHUNK), 'the chunks that still match are')
  t.same(rec.have.toArray(), [0, 2, 3, 4, 5])
  t.match(rec.error, /^1 chunk no longer matches the shared files; the rest is still served$/)
})

t.test('disk store: one database, one daemon', async (t) => {
  const dir = await tempDir(t)
  const a = new DiskChunkStore({ location: join(dir, 'db') })
  await a.open()
  t.teardown(() => a.close())
  const b = new DiskChunkStore({ location: join(dir, 'db') })
  await t.rejects(b.open(), { code: ErrorCode.INVALID_ARGUMENT, message: /another daemon is using it/ })
})

t.test('disk store: on a full disk it opens read-only, serves what it has, and writes again once there is room', { skip: await noSmallFileSystem() }, async (t) => {
  const { dir, data, built } = await partialDownload(t, [1, 3])
  const small = await smallFileSystem(t, dir, '1m')
  const location = join(small, 'db')
  await cp(join(dir, 'db'), location, { recursive: true })
  await fill(join(small, 'filler'))
  const warnings: string[] = []
  let store = new DiskChunkStore({ location, reopenMs: 0, onReadOnly: (why) => warnings.push(why) })
  await store.open()
  t.match(warnings, [/^no space left on the device of .*: the store is read-only until there is room \(.*No space left on device/], 'says so, naming the cause')
  t.equal(store.readOnlyReason, warnings[0])
  const rec = store.get(built.id)!
  t.same(rec.have.toArray(), [1, 3], 'what was stored is there')
  t.same(await store.read(built.id, 3), data.subarray(3 * CHUNK, 4 * CHUNK), 'and is served')
  await t.rejects(store.write(built.id, 0, data.subarray(0, CHUNK)), { code: ErrorCode.NO_SPACE }, 'a new chunk is refused')
  await t.rejects(store.update(built.id, { paused: false }), { code: ErrorCode.NO_SPACE })
  t.equal(rec.paused, true, 'a change that could not be saved is not made')
  await t.rejects(store.remove(built.id), { code: ErrorCode.NO_SPACE })
  t.same(rec.have.toArray(), [1, 3])
  await rm(join(small, 'filler'))
  await store.write(built.id, 0, data.subarray(0, CHUNK))
  t.equal(store.readOnlyReason, undefined, 'with room again it writes')
  await store.close()
  store = new DiskChunkStore({ location })
  await store.open()
  t.teardown(() => store.close())
  t.same(store.get(built.id)!.have.toArray(), [0, 1, 3], 'and what it wrote is stored')
})

t.test('disk store: a database that cannot be opened names the cause', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'db'), 'not a folder')
  await t.rejects(new DiskChunkStore({ location: join(dir, 'db') }).open(), { code: ErrorCode.INVALID_ARGUMENT, message: /^cannot open .*db: (?!Database failed to open)/ })
})

t.test('manifests from paths', async (t) => {
  const dir = await tempDir(t)
  await t.rejects(manifestFromPath(join(dir, 'missing')), { code: ErrorCode.NOT_FOUND })
  const folder = await sampleFolder(dir)
  await symlink(join(folder, 'a.txt'), join(folder, 'link'))
  await t.rejects(manifestFromPath(folder), { code: ErrorCode.BAD_MANIFEST, message: /not a regular file/ })
  await rm(join(folder, 'link'))
  const progress: number[] = []
  const built = await manifestFromPath(folder, { onProgress: (done) => progress.push(done) })
  t.equal(built.manifest.kind, 'directory')
  t.equal(built.manifest.name, 'folder')
  t.equal(progress.at(-1), built.manifest.size)
  const again = await manifestFromPath(folder)
  t.equal(again.id, built.id, 'the same tree gives the same id')
  await mkdir(join(dir, 'void'))
  const empty = await manifestFromPath(join(dir, 'void'))
  t.equal(empty.manifest.size, 0)
  await t.rejects(manifestFromPath(folder, { chunkSize: 1000 }), { code: ErrorCode.INVALID_ARGUMENT })
})

t.test('disk store: a folder of more files than open handles', async (t) => {
  const dir = await tempDir(t)
  const src = join(dir, 'many')
  await mkdir(src)
  for (let i = 0; i < 150; i++) await writeFile(join(src, `f${String(i).padStart(3, '0')}`), randomBytes(1000 + i))
  const built = await manifestFromPath(src, { chunkSize: CHUNK })
  const seed = new DiskChunkStore({ location: join(dir, 'seed-db') })
  const copy = new DiskChunkStore({ location: join(dir, 'copy-db') })
  await seed.open()
  await copy.open()
  t.teardown(() => Promise.all([seed.close(), copy.close()]))
  await seed.add({ manifestBytes: built.bytes, root: src, role: 'seed', trackers: [] })
  const rec = await copy.add({ manifestBytes: built.bytes, root: join(dir, 'copy'), role: 'download', trackers: [] })
  await Promise.all([...Array(rec.have.size).keys()].map(async (c) => copy.write(rec.id, c, await seed.read(rec.id, c))))
  t.ok(rec.have.complete)
  t.same(await readFile(join(dir, 'copy', 'f149')), await readFile(join(src, 'f149')))
})
