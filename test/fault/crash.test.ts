import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import type { Test } from 'tap'
import { Bitfield, bytesEqual, fromHex } from '@shoal/protocol'
import { randomFile, sha256File, startPeer, startTracker, tempDir, waitUntil } from '@shoal/testkit'
import { Rng } from '../lib/fault-fuzz.js'
import { craftManifest } from '../lib/fault-manifest.js'
import type { CraftedManifest } from '../lib/fault-manifest.js'
import { checkVerifiedChunks } from '../lib/fault-store.js'
import { RawTrackerClient } from '../lib/fault-tracker-client.js'
import { RawWireClient } from '../lib/fault-wire-client.js'
import { FAST, isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

const seed = Number(process.env.SHOAL_CRASH_SEED ?? 8)

t.test('kill -9 of the tracker during heavy publishing: every manifest it acknowledged survives, and peers re-register', async (t) => {
  const rng = new Rng(seed)
  const tracker = await startTracker(t)
  const dir = await tempDir(t, 'shoal-crash-')
  const peers = await Promise.all([0, 1].map(async (i) => {
    const p = await startPeer(t, { trackers: [tracker.url], tuning: FAST })
    await randomFile(join(dir, `shared-${i}.bin`), 300_000)
    await p.api.share(join(dir, `shared-${i}.bin`))
    return p
  }))
  await waitUntil(async () => (await tracker.stats()).peersOnline === 2, { what: 'both peers registered' })
  const manifests: CraftedManifest[] = Array.from({ length: 1500 }, (_, i) => craftManifest({
    name: `m${i}.bin`, kind: 'file', files: [{ path: `m${i}.bin`, size: (50 + rng.int(750)) * 16 * 1024 }], seed: `${seed}/${i}`,
  }))
  const acknowledged: CraftedManifest[] = []
  const killAt = 150 + rng.int(300)
  let reached: () => void = () => undefined
  const killPoint = new Promise<void>((resolve) => (reached = resolve))
  // Four connections, each with eight publishes in flight, until the tracker dies.
  let next = 0
  const publishers = Array.from({ length: 4 }, async () => {
    const client = await RawTrackerClient.connect(tracker.url)
    await client.register([])
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < manifests.length && client.isOpen) {
        const m = manifests[next++]
        const reply = await client.request({ type: 'publish', manifest: m.bytes }).catch(() => undefined)
        if (reply?.type !== 'ok') continue
        acknowledged.push(m)
        if (acknowledged.length === killAt) reached()
      }
    }))
    client.terminate()
  })
  await Promise.race([killPoint, Promise.all(publishers)])
  await tracker.kill('SIGKILL')
  await Promise.all(publishers)
  t.ok(next < manifests.length, `killed while publishing: ${acknowledged.length} of ${next} sent were acknowledged`)

  await tracker.start()
  const reader = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => reader.terminate())
  await reader.register([])
  let intact = 0
  const missing: string[] = []
  for (const m of acknowledged) {
    const reply = await reader.request({ type: 'get-manifest', content: m.id })
    if (reply.type === 'manifest' && bytesEqual(reply.manifest, m.bytes)) intact++
    else missing.push(m.idHex.slice(0, 12))
  }
  t.equal(intact, acknowledged.length, `every acknowledged manifest is there, byte for byte (missing: ${missing.join(' ')})`)
  const stats = await waitUntil(async () => {
    const s = await tracker.stats()
    return s.peersOnline === 3 && s.contents >= 2 ? s : undefined
  }, { timeoutMs: 15_000, what: 'both peers re-registered with their contents' })
  t.ok(stats.manifests >= acknowledged.length, `${stats.manifests} manifests stored after the restart`)
  const fresh = craftManifest({ name: 'after.bin', kind: 'file', files: [{ path: 'after.bin', size: 1000 }] })
  t.equal((await reader.request({ type: 'publish', manifest: fresh.bytes })).type, 'ok', 'the store takes new manifests')
  for (const p of peers) t.equal((await p.api.status()).trackers[0].state, 'registered', 'the peer is registered again')
})

t.test('kill -9 of a downloader during heavy writes, again and again: nothing marked verified fails its hash, and the download completes', async (t) => {
  const rng = new Rng(seed + 1)
  const { dir, peer, hash, shared } = await startSwarm(t, { size: 32 * 1024 * 1024, chunkSize: '256K', seederLimit: '12M' })
  const b = await peer()
  const output = join(dir, 'b.bin')
  await startGet(b, shared.link, output)
  let previous = 0
  const kills = 4
  let killed = 0
  for (let kill = 1; kill <= kills; kill++) {
    // A random point in the next stretch of the download, short of its last 16 chunks (a third
    // of a second at the seeder's rate), so that the download is still running when polled.
    const target = Math.min(shared.chunks - 16, previous + 1 + rng.int(Math.floor((shared.chunks - previous) / (kills - kill + 2))))
    const before = await waitContent(b, shared.id, (s) => s.have >= target, `downloader past chunk ${target}`)
    if (before.state === 'seeding') break
    await b.kill('SIGKILL')
    killed++
    const stored = await checkVerifiedChunks(b.dataDir, shared.id, output)
    t.same(stored.bad, [], `kill ${kill} at ${before.have} chunks: all ${stored.verified} chunks marked verified match their hash`)
    t.ok(stored.verified >= before.have, `kill ${kill}: nothing verified before the kill was lost (${before.have} reported, ${stored.verified} stored)`)
    previous = stored.verified
    await b.start()
  }
  t.equal(killed, kills, 'every kill landed while the download was running')
  await waitContent(b, shared.id, isDone, 'the download completes after the kills', 120_000)
  t.equal(await sha256File(output), hash, 'the file is right')
})

const run = promisify(execFile)

/** Mounts a tmpfs of `size` at `dir`; throws saying why when that is not possible here. */
async function mountTmpfs(dir: string, size: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('not root')
  await mkdir(dir, { recursive: true })
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
}

/**
 * A small tmpfs at `dir` for this test, unmounted at teardown: after whatever is started
 * later (teardowns run newest first), lazily if still busy. The teardown never rejects, since
 * tap skips the remaining teardowns after one that does.
 */
async function tmpfsFor(t: Test, dir: string, size: string): Promise<void> {
  await mountTmpfs(dir, size)
  t.teardown(() => run('umount', [dir])
    .catch(() => run('umount', ['-l', dir]))
    .catch((err: Error) => t.comment(`could not unmount ${dir}: ${err.message}`)))
}

/** Why a small file system cannot be made here, or undefined when it can. */
async function tmpfsProblem(): Promise<string | undefined> {
  const probe = await mkdtemp(join(tmpdir(), 'shoal-tmpfs-probe-'))
  try {
    await mountTmpfs(probe, '1m')
    await run('umount', [probe])
    return undefined
  } catch (err) {
    return `needs root and \`mount -t tmpfs\` to make a small full file system (${(err as Error).message.split('\n')[0]})`
  } finally {
    await rm(probe, { recursive: true, force: true })
  }
}

t.test('a download into a full file system fails with a clear reason, keeps what it verified, and the daemon keeps serving', { skip: await tmpfsProblem() ?? false }, async (t) => {
  const { dir, peer, seeder, hash, shared, tracker } = await startSwarm(t, { size: 12 * 1024 * 1024, chunkSize: '256K', seederLimit: '8M' })
  const full = join(dir, 'full')
  await tmpfsFor(t, full, '4m')
  const b = await peer()
  // A second content, complete on b before the disk fills.
  const small = join(dir, 'small.bin')
  const smallHash = await randomFile(small, 1024 * 1024)
  const other = await seeder.api.share(small, { chunkSize: 64 * 1024 })
  await startGet(b, other.link, join(dir, 'b-small.bin'))
  await waitContent(b, other.id, isDone, 'b has the small content')

  await startGet(b, shared.link, join(full, 'big.bin'))
  const failed = await waitUntil(async () => {
    const s = await b.api.content(shared.id)
    return s.state === 'failed' || s.state === 'seeding' ? s : undefined
  }, { timeoutMs: 60_000, what: 'the download into the full file system stops' })
  t.equal(failed.state, 'failed', 'the download is marked failed')
  t.match(failed.error ?? '', /no space left on device|ENOSPC/i, `with a reason that says so: ${failed.error}`)
  t.ok(failed.have > 0 && failed.have < shared.chunks, `${failed.have} of ${shared.chunks} chunks were verified before the disk filled`)
  const cli = await b.cli(['status'])
  t.match(cli.stdout, /failed .*no space left on device/i, '`shoal status` shows the state and the reason')

  // b still serves its other content: a new peer gets it from b alone.
  await seeder.api.pause(other.id)
  const c = await startPeer(t, { trackers: [tracker.url], tuning: FAST })
  await startGet(c, other.link, join(dir, 'c-small.bin'))
  const fetched = await waitContent(c, other.id, isDone, 'c fetched the small content from b')
  t.equal(await sha256File(join(dir, 'c-small.bin')), smallHash, 'c has the right bytes')
  t.same(fetched.sources.filter((s) => s.chunks > 0).map((s) => s.peerId), [b.peerId], 'all of them from b')

  // What b verified survives a restart, and every chunk marked verified is right.
  await b.kill('SIGKILL')
  const stored = await checkVerifiedChunks(b.dataDir, shared.id, join(full, 'big.bin'))
  t.same(stored.bad, [], `all ${stored.verified} stored chunks match their hash`)
  t.ok(stored.verified >= failed.have, 'none of the chunks verified before the failure was lost')
  await b.start()
  const restarted = await b.api.content(shared.id)
  t.equal(restarted.state, 'failed', 'after a restart the content is still failed, with its reason')
  t.ok(restarted.have >= failed.have, 'and still has its verified chunks')

  // Room again: resuming completes the download.
  await run('mount', ['-o', 'remount,size=64m', full])
  await b.api.resume(shared.id)
  await waitContent(b, shared.id, isDone, 'the resumed download completes', 60_000)
  t.equal(await sha256File(join(full, 'big.bin')), hash, 'with the right bytes')
})

t.test('the tracker on a full file system: a publish it could not store is never acknowledged later', { skip: await tmpfsProblem() ?? false }, async (t) => {
  const dir = await tempDir(t, 'shoal-tracker-full-')
  const full = join(dir, 'full')
  await tmpfsFor(t, full, '2m')
  const tracker = await startTracker(t, { dataDir: join(full, 'data') })
  const client = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => client.terminate())
  await client.register([])
  // 64 KiB manifests until the store refuses one.
  let refused: CraftedManifest | undefined
  let stored = 0
  for (let i = 0; i < 100 && refused === undefined; i++) {
    const m = craftManifest({ name: `m${i}.bin`, kind: 'file', files: [{ path: `m${i}.bin`, size: 2000 * 16 * 1024 }], seed: `full/${i}` })
    const reply = await client.request({ type: 'publish', manifest: m.bytes })
    if (reply.type === 'ok') stored++
    else refused = m
  }
  t.ok(refused !== undefined, `after ${stored} manifests the full store refused one`)
  if (refused === undefined) return
  const again = await client.request({ type: 'publish', manifest: refused.bytes })
  const fetched = await client.request({ type: 'get-manifest', content: refused.id })
  t.ok(again.type !== 'ok' || fetched.type === 'manifest', `publishing it again is acknowledged only if it is then stored (publish: ${again.type}, get-manifest: ${fetched.type === 'error' ? fetched.code : fetched.type})`)
  t.equal((await tracker.stats()).manifests, stored, '/stats counts only the stored manifests')
  await run('mount', ['-o', 'remount,size=64m', full])
  const retried = await client.request({ type: 'publish', manifest: refused.bytes })
  const after = await client.request({ type: 'get-manifest', content: refused.id })
  t.equal(retried.type, 'ok', 'with room again, publishing it is acknowledged')
  t.equal(after.type, 'manifest', 'and it is stored')
  t.ok(tracker.child.running, 'the tracker kept running throughout')
})

t.test('a daemon whose own store is on the full file system fails the download, keeps its verified chunks and starts again', { skip: await tmpfsProblem() ?? false }, async (t) => {
  const { dir, peer, hash, shared } = await startSwarm(t, { size: 12 * 1024 * 1024, chunkSize: '256K', seederLimit: '8M' })
  const full = join(dir, 'full')
  await tmpfsFor(t, full, '4m')
  const b = await peer({ dataDir: join(full, 'data') })
  const output = join(full, 'big.bin')
  await startGet(b, shared.link, output)
  const failed = await waitUntil(async () => {
    const s = await b.api.content(shared.id)
    return s.state === 'failed' || s.state === 'seeding' ? s : undefined
  }, { timeoutMs: 60_000, what: 'the download stops' })
  t.equal(failed.state, 'failed', `the download is marked failed: ${failed.error}`)
  t.match(failed.error ?? '', /no space left on device|ENOSPC/i, 'and says why')
  await b.kill('SIGKILL')
  // Still full: the daemon should come back and serve what it has.
  const startedFull = await b.start().then(() => undefined, (err: Error) => err.message.trim().split('\n').at(-1))
  t.equal(startedFull, undefined, `the daemon starts again while its file system is still full${startedFull ? ` (it did not: ${startedFull})` : ''}`)
  if (startedFull === undefined) {
    const restarted = await b.api.content(shared.id)
    t.ok(restarted.have >= failed.have, `with its ${restarted.have} verified chunks`)
    const client = await RawWireClient.connect('127.0.0.1', b.port)
    const content = fromHex(shared.id, 32)!
    const held = Bitfield.fromWire(48, await client.handshake(content)).toArray()
    const reply = await client.request(content, held[0], 0, 1024)
    await client.close()
    t.ok(reply.type === 'piece' && reply.data.length === 1024, `and serves them (chunk ${held[0]}: ${reply.type})`)
    await b.kill('SIGKILL')
  }
  // With room again, the store is read and checked as it was left.
  await run('mount', ['-o', 'remount,size=64m', full])
  const stored = await checkVerifiedChunks(b.dataDir, shared.id, output)
  t.same(stored.bad, [], `all ${stored.verified} chunks its store marked verified match their hash`)
  t.ok(stored.verified >= failed.have, 'none verified before the failure was lost')
  await b.start()
  await b.api.resume(shared.id)
  await waitContent(b, shared.id, isDone, 'the resumed download completes', 60_000)
  t.equal(await sha256File(output), hash, 'with the right bytes')
})
