import { spawn } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { once } from 'node:events'
import t from 'tap'
import { ErrorCode } from '@shoal/protocol'
import type { Manifest } from '@shoal/protocol'
import { ChunkHasher } from '../src/store/chunk-hasher.js'
import { verifyChunk } from '../src/store/verify.js'

const MiB = 1024 * 1024
const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest()
const shared = (bytes: number): Buffer => randomFillSync(Buffer.from(new SharedArrayBuffer(bytes)))

t.test('digests match SHA-256 whether the worker or this thread computes them', async (t) => {
  const hasher = new ChunkHasher()
  t.teardown(() => hasher.close())
  const block = shared(4 * MiB)
  const views = [block.subarray(0, MiB), block.subarray(MiB + 7, 3 * MiB), block.subarray(3 * MiB, 3 * MiB + 1000)]
  const plain = randomFillSync(Buffer.alloc(MiB))
  for (const view of [...views, plain]) t.same(Buffer.from(await hasher.digest(view)), sha256(view), `${view.length} bytes, ${view.buffer instanceof SharedArrayBuffer ? 'shared' : 'private'} memory`)
  const many = Array.from({ length: 32 }, (_, i) => block.subarray(i * 64 * 1024, i * 64 * 1024 + 2 * MiB))
  const digests = await Promise.all(many.map((v) => hasher.digest(v)))
  t.ok(digests.every((d, i) => Buffer.from(d).equals(sha256(many[i]))), '32 at once, each its own answer')
  t.same(hasher.counts, { onWorker: 2 + 32, here: 2, workerFailures: 0 }, 'long shared chunks on the worker; the short one and the private one here')
})

t.test('a chunk that does not match is refused on the worker path too', async (t) => {
  const hasher = new ChunkHasher()
  t.teardown(() => hasher.close())
  const data = shared(2 * MiB)
  const chunkHashes = Buffer.concat([sha256(data.subarray(0, MiB)), sha256(data.subarray(MiB))])
  const manifest = { version: 1, name: 'x.bin', kind: 'file', chunkSize: MiB, size: data.length, files: [{ path: 'x.bin', size: data.length }], chunkHashes, root: new Uint8Array(32) } as Manifest
  await t.resolves(verifyChunk(manifest, 1, data.subarray(MiB), (d) => hasher.digest(d)), 'the right bytes pass')
  data[MiB + 5] ^= 1
  await t.rejects(verifyChunk(manifest, 1, data.subarray(MiB), (d) => hasher.digest(d)), { code: ErrorCode.HASH_MISMATCH }, 'one flipped bit is caught')
  t.same(hasher.counts, { onWorker: 2, here: 0, workerFailures: 0 }, 'both hashed on the worker')
})

t.test('hashes in flight when the worker stops are done on this thread, and so is everything after close', async (t) => {
  const hasher = new ChunkHasher()
  t.teardown(() => hasher.close())
  const block = shared(8 * MiB)
  const views = Array.from({ length: 8 }, (_, i) => block.subarray(i * MiB, (i + 1) * MiB))
  const inFlight = views.map((v) => hasher.digest(v))
  await hasher.close()
  const digests = await Promise.all(inFlight)
  t.ok(digests.every((d, i) => Buffer.from(d).equals(sha256(views[i]))), 'each still gets its right digest')
  const before = hasher.counts
  t.equal(before.onWorker + before.here, 8, 'each hashed once, wherever')
  t.equal(before.workerFailures, 0, 'a close is not a failure')
  t.same(Buffer.from(await hasher.digest(views[0])), sha256(views[0]), 'a hash after close works')
  t.same(hasher.counts, { ...before, here: before.here + 1 }, 'computed here')
})

t.test('a worker that cannot start: every hash is still right, computed on this thread', async (t) => {
  const hasher = new ChunkHasher(new URL('./no-such-worker.js', import.meta.url))
  t.teardown(() => hasher.close())
  const block = shared(6 * MiB)
  for (let i = 0; i < 6; i++) {
    const view = block.subarray(i * MiB, (i + 1) * MiB)
    t.same(Buffer.from(await hasher.digest(view)), sha256(view), `hash ${i + 1}`)
  }
  t.same(hasher.counts, { onWorker: 0, here: 6, workerFailures: 3 }, 'three tries to start it, then no more')
})

t.test('a worker that crashes mid-job: the chunks it held are hashed here, crash after crash', async (t) => {
  const hasher = new ChunkHasher(new URL('./crashing-hash-worker.js', import.meta.url))
  t.teardown(() => hasher.close())
  const block = shared(8 * MiB)
  const views = Array.from({ length: 8 }, (_, i) => block.subarray(i * MiB, (i + 1) * MiB))
  for (const round of [0, 1, 2]) {
    const pair = views.slice(round * 2, round * 2 + 2)
    const digests = await Promise.all(pair.map((v) => hasher.digest(v)))
    t.ok(digests.every((d, i) => Buffer.from(d).equals(sha256(pair[i]))), `crash ${round + 1}: both chunks in flight still get their right digest`)
    t.same(hasher.counts, { onWorker: 0, here: 2 * (round + 1), workerFailures: round + 1 }, `crash ${round + 1}: seen, and both hashed here`)
  }
  t.same(Buffer.from(await hasher.digest(views[7])), sha256(views[7]), 'after three crashes, hashed here: still right')
  t.same(hasher.counts, { onWorker: 0, here: 7, workerFailures: 3 }, 'with no fourth worker started')
})

t.test('an idle worker does not keep the process alive', async (t) => {
  const script = `
    import { ChunkHasher } from ${JSON.stringify(new URL('../src/store/chunk-hasher.js', import.meta.url).href)}
    const data = Buffer.from(new SharedArrayBuffer(1 << 20))
    const hasher = new ChunkHasher()
    await hasher.digest(data)
    console.log(hasher.counts.onWorker === 1 ? 'hashed on the worker' : 'not hashed on the worker')
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  let timer: NodeJS.Timeout | undefined
  const exited = await Promise.race([
    once(child, 'exit').then(([code]) => code as number | null),
    new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 10_000))),
  ])
  clearTimeout(timer)
  child.kill('SIGKILL')
  t.equal(out.trim(), 'hashed on the worker', 'the worker answered')
  t.equal(exited, 0, 'and the process ended by itself, the hasher never closed')
})
