import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { chmod, mkdir, readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Bitfield, contentIdOf, ErrorCode, formatLink, fromHex, parseLink, PROTOCOL_VERSION, ShoalError, toHex } from '@shoal/protocol'
import type { SourcesMessage, TrackerMessage } from '@shoal/protocol'
import { createPeer } from '../src/index.js'
import type { PeerInit } from '../src/index.js'
import type { Peer } from '../src/peer.js'
import { resolveOptions } from '../src/options.js'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { DiskChunkStore } from '../src/store/disk-store.js'
import { manifestFailure } from '../src/tracker/manifest-failure.js'
import { FramedSocket } from '../src/wire/framed-socket.js'
import { fakeTracker, swarmAnswers } from './fake-tracker.js'
import { fill, noSmallFileSystem, smallFileSystem, tempDir, waitFor } from './helpers.js'

const CHUNK = 16 * 1024

/** `sources`, when given, changes what the tracker answers to each find. */
async function swarm(t: Test, sources?: (found: SourcesMessage) => SourcesMessage) {
  const state = swarmAnswers()
  const tracker = await fakeTracker(t, {
    answer: (msg, ws) => {
      const reply = state.answer(msg, ws)
      return reply?.type === 'sources' && sources !== undefined ? sources(reply) : reply
    },
  })
  const dir = await tempDir(t)
  let n = 0
  const peer = async (over: PeerInit = {}): Promise<Peer> => {
    const p = await createPeer({
      dataDir: join(dir, `peer${n++}`), host: '127.0.0.1', port: 0, trackers: [tracker.url],
      reconnect: { initialMs: 20, maxMs: 100 }, findIntervalMs: 100, requestTimeoutMs: 2000, haveDelayMs: 5, ...over,
    })
    t.teardown(() => p.close())
    return p
  }
  const file = async (size: number, name = 'data.bin') => {
    const path = join(dir, name)
    const data = randomBytes(size)
    await writeFile(path, data)
    return { path, data }
  }
  return { state, tracker, dir, peer, file }
}

/** Resolves when the peer has completed the content, now or within `ms`; fails at once if its download fails. */
async function completed(peer: Peer, id: string, ms = 20_000): Promise<void> {
  const { state, error } = peer.content(id)
  if (state === 'failed') throw new Error(`the download failed: ${error}`)
  await waitFor(peer, 'complete', { until: () => peer.content(id).state === 'seeding', failOn: { failed: (failed: string) => failed === id }, ms, what: 'the download to complete' })
}

/** Resolves once the peer holds `n` chunks of the content: within `ms`, and `n` chunks verified at the most. */
async function holding(peer: Peer, id: string, n: number, ms = 10_000): Promise<void> {
  await waitFor(peer, 'verified', { until: () => peer.content(id).have >= n, failOn: { failed: (failed: string) => failed === id }, ms, max: n, what: `${n} chunks held` })
}

t.test('share on one peer, get on another: same bytes, all verified', async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer()
  const b = await peer()
  const { path, data } = await file(10 * CHUNK + 123)
  const shared = await a.share(path, { chunkSize: CHUNK })
  t.match(shared, { name: 'data.bin', size: data.length, chunks: 11, warnings: [] })
  t.same(await a.share(path, { chunkSize: CHUNK }), shared, 'sharing again is a no-op')
  const started = await b.get(shared.link, { output: join(dir, 'out') + '/' })
  t.equal(started.path, join(dir, 'out', 'data.bin'))
  await completed(b, shared.id)
  t.same(await readFile(started.path), data)
  const status = b.content(shared.id.slice(0, 10))
  t.match(status, { state: 'seeding', have: 11, chunks: 11, fetchedChunks: 11, downloadedBytes: data.length })
  t.equal(status.sources.length, 1)
  t.equal(status.sources[0].peerId, a.peerId)
  t.equal(status.sources[0].chunks, 11)
  t.equal(a.content(shared.id).uploadedBytes, data.length)
  t.same((await b.get(shared.link)).id, shared.id, 'getting a held content returns it')
  t.match(b.status(), { peerId: b.peerId, trackers: [{ state: 'registered' }], contents: [{ id: shared.id }] })
})

t.test('sharing a content again with another tracker adds that tracker, for good', async (t) => {
  const { peer, file, dir, tracker } = await swarm(t)
  const other = await fakeTracker(t, { answer: swarmAnswers().answer })
  const sharerDir = join(dir, 'sharer')
  let a = await peer({ dataDir: sharerDir })
  const { path } = await file(2 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  const again = await a.share(path, { chunkSize: CHUNK, trackers: [other.url] })
  t.match(again, { id: shared.id, warnings: [] })
  t.same(parseLink(again.link).trackers, [tracker.url, other.url], 'the link names both')
  const published = await other.waitFor((m) => m.type === 'publish') as { manifest: Uint8Array }
  t.equal(toHex(contentIdOf(published.manifest)), shared.id, 'the new tracker was told')
  await a.close()
  a = await peer({ dataDir: sharerDir })
  t.same(parseLink(a.content(shared.id).link).trackers, [tracker.url, other.url], 'and still is after a restart')
})

t.test('a downloader serves what it has verified to a third peer', async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer({ uploadLimit: 8 * CHUNK })
  const b = await peer()
  const c = await peer()
  const { path, data } = await file(24 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  // Let b get a head start so it holds chunks c lacks.
  await holding(b, shared.id, 8)
  await c.get(shared.link, { output: join(dir, 'c.bin') })
  await Promise.all([completed(b, shared.id), completed(c, shared.id)])
  t.same(await readFile(join(dir, 'c.bin')), data)
  const fromB = c.content(shared.id).sources.find((s) => s.peerId === b.peerId)
  t.ok(fromB !== undefined && fromB.chunks > 0, `c fetched ${fromB?.chunks} chunks from b`)
})

t.test('a shared file edited while shared is not served where it changed, and its trackers are told', async (t) => {
  const { peer, file, dir, tracker } = await swarm(t)
  const a = await peer()
  const b = await peer()
  const { path, data } = await file(8 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  const edited = Buffer.from(data)
  edited[3 * CHUNK] ^= 0xff
  await writeFile(path, edited)
  await utimes(path, new Date(), new Date(Date.now() + 5000))
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  const lacksChunk3 = (m: TrackerMessage): boolean => m.type === 'register' && toHex(m.peerId) === a.peerId &&
    m.contents.some((c) => toHex(c.content) === shared.id && !Bitfield.fromWire(8, c.bitfield).has(3))
  t.ok(await tracker.waitFor(lacksChunk3), 'the tracker was sent the content without the changed chunk')
  await holding(b, shared.id, 7)
  t.equal(b.content(shared.id).have, 7, 'the downloader got every chunk that still matches')
  t.match(a.content(shared.id), { have: 7, error: /^1 chunk no longer matches/ })
})

t.test('a source sending bad bytes is banned, reported, and the file is still right', async (t) => {
  const { peer, file, dir, tracker } = await swarm(t)
  const honest = await peer({ uploadLimit: 16 * CHUNK })
  const liar = await peer()
  const { path, data } = await file(16 * CHUNK)
  const shared = await honest.share(path, { chunkSize: CHUNK })
  // The liar shares a copy (same name, so the same content), then the copy is damaged behind
  // its store's back: size and mtime kept, so the store cannot tell.
  await mkdir(join(dir, 'liar'))
  const copy = join(dir, 'liar', 'data.bin')
  const stamp = new Date('2026-01-01T00:00:00Z')
  await writeFile(copy, data)
  await utimes(copy, stamp, stamp)
  await liar.share(copy, { chunkSize: CHUNK })
  const damaged = Buffer.from(data)
  for (let c = 0; c < 16; c++) damaged[c * CHUNK + 7] ^= 0xff
  await writeFile(copy, damaged)
  await utimes(copy, stamp, stamp)
  const b = await peer({ banAfter: 2 })
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  await completed(b, shared.id)
  t.same(await readFile(join(dir, 'b.bin')), data)
  const status = b.content(shared.id)
  t.same(status.banned, [liar.peerId], 'the liar is banned')
  const fromLiar = status.sources.find((s) => s.peerId === liar.peerId)
  t.ok(fromLiar !== undefined && fromLiar.bytes > 0, 'the liar did send data')
  t.equal(fromLiar?.chunks, 0, 'none of it was kept')
  const report = await tracker.waitFor((m) => m.type === 'report')
  t.match(report, { reason: /hash/ })
  t.equal(Buffer.from((report as { peerId: Uint8Array }).peerId).toString('hex'), liar.peerId, 'the liar was reported')
})

/** A peer-wire source that claims in its handshake to be `claims`, holds every chunk and serves random bytes. */
async function impostor(t: Test, claims: string, chunkCount: number) {
  const connections: number[] = []
  const server = createServer((socket) => {
    connections.push(Date.now())
    socket.on('error', () => undefined)
    const framed = new FramedSocket(socket)
    framed.on('message', (m) => {
      if (m.type === 'handshake') {
        framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: fromHex(claims, 16)!, content: m.content })
        framed.send({ type: 'bitfield', bitfield: Bitfield.full(chunkCount).bytes })
      } else if (m.type === 'request') framed.sendPiece({ id: m.id, chunk: m.chunk, offset: m.offset, data: randomBytes(m.length) })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const source = { peerId: randomBytes(16), host: '127.0.0.1', port: (server.address() as AddressInfo).port, chunks: new Uint8Array(0), load: 0 }
  return { connections, source }
}

t.test('a source claiming another peer\'s id is dropped with a back-off; the peer it named is neither banned nor reported', async (t) => {
  let finds = 0
  let liar: Awaited<ReturnType<typeof impostor>> | undefined
  // The impostor is named alone first, so it is connected to before the peer it claims to be.
  const { peer, file, dir, state } = await swarm(t, (found) => ({ ...found, peers: finds++ === 0 ? [liar!.source] : [liar!.source, ...found.peers] }))
  const honest = await peer()
  const CHUNKS = 8
  const { path, data } = await file(CHUNKS * CHUNK)
  const shared = await honest.share(path, { chunkSize: CHUNK })
  liar = await impostor(t, honest.peerId, CHUNKS)
  const b = await peer({ banAfter: 1, requestTimeoutMs: 200 })
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  await t.resolves(completed(b, shared.id, 10_000), 'the download completes from the honest peer')
  t.same(await readFile(join(dir, 'b.bin')), data)
  t.same(b.content(shared.id).banned, [], 'nobody is banned')
  t.same(state.reports.map((r) => toHex(r.peerId)), [], 'nobody is reported')
  t.ok(finds >= 2 && liar.connections.length <= 2, `the impostor was connected to ${liar.connections.length} times while the download ran (ticks every 50 ms)`)
})

t.test('a download whose source closes idle connections reconnects and completes', async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer({ idleTimeoutMs: 400 })
  // 16 KiB/s, one request at a time: gaps between requests longer than the source's idle timeout.
  const b = await peer({ downloadLimit: CHUNK, perPeerInflight: 1 })
  const { path, data } = await file(4 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  await b.get(shared.link, { output: join(dir, 'slow.bin') })
  await completed(b, shared.id)
  t.same(await readFile(join(dir, 'slow.bin')), data, 'the same bytes')
  t.same(b.content(shared.id).banned, [], 'and the source is not held against')
})

t.test('a failed manifest fetch keeps its cause and code', async (t) => {
  const content = new Uint8Array(32).fill(7)
  const silent = await fakeTracker(t)
  const liar = await fakeTracker(t, {
    answer: (m) => (m.type === 'get-manifest' ? { type: 'manifest', id: m.id, content: m.content, manifest: new Uint8Array([1, 2, 3]) } : undefined),
  })
  const p = await createPeer({ dataDir: join(await tempDir(t), 'p'), host: '127.0.0.1', port: 0, trackerTimeoutMs: 300 })
  t.teardown(() => p.close())
  const link = (...trackers: string[]) => formatLink({ content, trackers })
  await t.rejects(p.get(link(silent.url)), { code: ErrorCode.TIMEOUT, message: /did not answer get-manifest in time/ }, 'a tracker that does not answer')
  await t.rejects(p.get(link(liar.url)), { code: /^ERR_(HASH_MISMATCH|BAD_MANIFEST)$/, message: new RegExp(`^${liar.url}: `) }, 'a tracker serving a wrong manifest')
  await t.rejects(p.get(link('ws://127.0.0.1:1', liar.url)), { code: /^ERR_(HASH_MISMATCH|BAD_MANIFEST)$/, message: /cannot reach tracker ws:\/\/127.0.0.1:1: .*; ws:/ }, 'the most telling of several')
})

t.test('the most telling manifest failure gives the code', async (t) => {
  const failure = (code: ErrorCode) => new ShoalError(code, code)
  t.match(manifestFailure([failure(ErrorCode.NOT_FOUND), failure(ErrorCode.UNREACHABLE)]), { code: ErrorCode.UNREACHABLE, message: 'ERR_NOT_FOUND; ERR_UNREACHABLE' })
  t.match(manifestFailure([failure(ErrorCode.NOT_FOUND), failure(ErrorCode.NOT_FOUND)]), { code: ErrorCode.NOT_FOUND })
  t.match(manifestFailure([failure(ErrorCode.TIMEOUT), failure(ErrorCode.BAD_MANIFEST)]), { code: ErrorCode.BAD_MANIFEST })
  t.match(manifestFailure([failure(ErrorCode.AUTH), failure(ErrorCode.INTERNAL)]), { code: ErrorCode.AUTH })
  t.match(manifestFailure([]), { code: ErrorCode.NOT_FOUND, message: 'no tracker or peer to ask' })
  t.end()
})

t.test('errors: bad link, unknown content, unreachable tracker, existing output, no tracker', async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer()
  await t.rejects(a.get('not a link'), { code: ErrorCode.BAD_LINK })
  const unknown = formatLink({ content: new Uint8Array(32).fill(5), trackers: a.options.trackers })
  await t.rejects(a.get(unknown), { code: ErrorCode.NOT_FOUND, message: /does not know this content/ })
  const unreachable = formatLink({ content: new Uint8Array(32).fill(5), trackers: ['ws://127.0.0.1:1'] })
  await t.rejects(a.get(unreachable), { code: ErrorCode.UNREACHABLE, message: /^cannot reach tracker ws:\/\/127.0.0.1:1/ })
  t.same(a.status().trackers.map((s) => s.url), a.options.trackers, 'the unreachable tracker is not kept')
  const { path } = await file(3 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  const b = await peer()
  await t.rejects(b.get(shared.link, { output: path }), { code: ErrorCode.INVALID_ARGUMENT, message: /already exists/ })
  await t.test('an output in a folder it may not write to', { skip: process.getuid?.() === 0 ? 'root may write in any folder' : false }, async (t) => {
    const locked = join(dir, 'locked')
    await mkdir(locked, { mode: 0o500 })
    await chmod(locked, 0o500)
    await t.rejects(b.get(shared.link, { output: join(locked, 'x') }), { code: ErrorCode.INVALID_ARGUMENT, message: /permission denied/ })
  })
  const lonely = await peer({ trackers: [] })
  await t.rejects(lonely.share(path), { code: ErrorCode.INVALID_ARGUMENT, message: /no tracker/ })
  await t.rejects(lonely.share(join(dir, 'missing')), { code: ErrorCode.INVALID_ARGUMENT })
  await t.rejects(a.pause('ffff'), { code: ErrorCode.NOT_FOUND })
})

t.test('a get that fails after asking a tracker the daemon does not use keeps no client for that tracker', async (t) => {
  const { peer, file } = await swarm(t)
  const other = await fakeTracker(t, { answer: swarmAnswers().answer })
  const a = await peer({ trackers: [other.url] })
  const b = await peer()
  const { path } = await file(2 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  await t.rejects(b.get(shared.link, { output: path }), { code: ErrorCode.INVALID_ARGUMENT, message: /already exists/ })
  t.same(b.status().trackers.map((s) => s.url), b.options.trackers)
})

t.test('pause, resume and remove', async (t) => {
  const { peer, file, dir, state } = await swarm(t)
  const a = await peer({ uploadLimit: 8 * CHUNK })
  const b = await peer()
  const { path, data } = await file(12 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  await holding(b, shared.id, 1)
  t.equal((await b.pause(shared.id)).state, 'paused')
  const have = b.content(shared.id).have
  t.ok(have < 12)
  t.equal((await b.resume(shared.id)).state, 'downloading')
  await completed(b, shared.id)
  t.same(await readFile(join(dir, 'b.bin')), data)
  await b.remove(shared.id, true)
  await t.rejects(stat(join(dir, 'b.bin')), { code: 'ENOENT' }, 'downloaded files deleted on request')
  t.same(b.status().contents, [])
  await a.remove(shared.id, true)
  t.ok((await stat(path)).isFile(), 'shared files are never deleted')
  t.ok(state.peers.size >= 2)
})

t.test('a folder download never goes into a folder that exists, and deleting its files leaves what else is there', async (t) => {
  const { peer, dir } = await swarm(t)
  const a = await peer()
  const b = await peer()
  const album = join(dir, 'album')
  await mkdir(join(album, 'sub', 'deeper'), { recursive: true })
  await writeFile(join(album, 'a.txt'), randomBytes(3000))
  await writeFile(join(album, 'sub', 'deeper', 'x'), randomBytes(2 * CHUNK))
  const shared = await a.share(album, { chunkSize: CHUNK })
  // The user's own folder of that name, where the download goes by default.
  const home = join(dir, 'home')
  await mkdir(join(home, 'album'), { recursive: true })
  await writeFile(join(home, 'album', 'mine.txt'), 'kept')
  await t.rejects(b.get(shared.link, { cwd: home }), { code: ErrorCode.INVALID_ARGUMENT, message: /album: it already exists$/ })
  t.same(await readdir(join(home, 'album')), ['mine.txt'], 'nothing was added to it')
  const started = await b.get(shared.link, { output: join(dir, 'copy') + '/' })
  await completed(b, shared.id)
  // Added by the user after the download, beside and below its files.
  await writeFile(join(started.path, 'notes.txt'), 'kept')
  await writeFile(join(started.path, 'sub', 'own.txt'), 'kept')
  await b.remove(shared.id, true)
  t.same((await readdir(started.path)).sort(), ['notes.txt', 'sub'], 'the downloaded files are deleted, the user\'s stay')
  t.same(await readdir(join(started.path, 'sub')), ['own.txt'], 'and so do the folders holding them; the folders left empty are gone')
})

t.test('a shared content whose file changed is never downloaded into, even once resumed', async (t) => {
  const { peer, file, dir, tracker } = await swarm(t)
  const sharerDir = join(dir, 'sharer')
  let a = await peer({ dataDir: sharerDir })
  const { path } = await file(4 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  await a.close()
  await truncate(path, 2 * CHUNK)
  a = await peer({ dataDir: sharerDir })
  t.match(a.content(shared.id), { state: 'failed', have: 2, error: /^2 chunks no longer match/ })
  t.match(await a.resume(shared.id), { state: 'seeding', have: 2 }, 'resumed, it shares what still matches')
  // A share goes to the tracker on the same connection as, and so after, any find a download would have sent.
  const other = await file(CHUNK, 'other.bin')
  await a.share(other.path, { chunkSize: CHUNK })
  t.notOk(tracker.received.some((m) => m.type === 'find'), 'no download asked the tracker for sources')
})

t.test('a download that fails when its store cannot save anything still shows the failure', { skip: await noSmallFileSystem() }, async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer({ uploadLimit: 4 * CHUNK })
  const { path } = await file(64 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  const small = await smallFileSystem(t, dir, '1m')
  const b = await peer({ dataDir: join(small, 'data') })
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  await holding(b, shared.id, 1)
  await fill(join(small, 'filler'))
  const [, why] = await waitFor(b, 'failed', { match: (failed: string) => failed === shared.id, failOn: { complete: (done: string) => done === shared.id }, ms: 10_000, what: 'the download to fail' })
  t.match(b.content(shared.id), { state: 'failed', error: why })
})

t.test('a restarted downloader resumes from its verified chunks', async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer({ uploadLimit: 16 * CHUNK })
  const { path, data } = await file(32 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  const bDir = join(dir, 'restarting')
  let b = await peer({ dataDir: bDir })
  await b.get(shared.link, { output: join(dir, 'b.bin') })
  await holding(b, shared.id, 6)
  await b.close()
  b = await peer({ dataDir: bDir })
  const resumedWith = b.content(shared.id).have
  t.ok(resumedWith >= 6, `resumed with ${resumedWith} chunks`)
  await completed(b, shared.id)
  t.same(await readFile(join(dir, 'b.bin')), data)
  t.equal(b.content(shared.id).fetchedChunks, 32 - resumedWith, 'no verified chunk fetched again')
})

t.test('a failed download stays failed across a restart until it is resumed, which clears the error', async (t) => {
  const { peer, file, dir, tracker } = await swarm(t)
  const a = await peer()
  const { path, data } = await file(4 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  // The data folder of a daemon whose download of it failed before it stopped.
  const bDir = join(dir, 'failed')
  const out = join(dir, 'b.bin')
  const store = new DiskChunkStore({ location: join(bDir, 'db') })
  await store.open()
  await store.add({ manifestBytes: (await manifestFromPath(path, { chunkSize: CHUNK })).bytes, root: out, role: 'download', trackers: [tracker.url] })
  await store.update(shared.id, { error: 'no space left on device' })
  await store.close()
  let b = await peer({ dataDir: bDir })
  t.match(b.content(shared.id), { state: 'failed', have: 0, error: 'no space left on device' })
  // A share goes to the tracker on the same connection as, and so after, any find a download would have sent.
  await b.share((await file(CHUNK, 'other.bin')).path, { chunkSize: CHUNK })
  t.notOk(tracker.received.some((m) => m.type === 'find'), 'the download did not start by itself')
  t.match(await b.resume(shared.id), { state: 'downloading', error: undefined })
  await completed(b, shared.id)
  t.same(await readFile(out), data)
  await b.close()
  b = await peer({ dataDir: bDir })
  t.match(b.content(shared.id), { state: 'seeding', error: undefined }, 'and it stays cleared')
})

t.test('the peers a link names are kept: a restarted download goes on from them while no tracker names a source', async (t) => {
  const { peer, file, dir } = await swarm(t)
  const a = await peer({ uploadLimit: 16 * CHUNK })
  const { path, data } = await file(32 * CHUNK)
  const shared = await a.share(path, { chunkSize: CHUNK })
  // Registers peers and answers nothing else: no manifest, no sources.
  const silent = await fakeTracker(t)
  const link = formatLink({ content: fromHex(shared.id, 32)!, trackers: [silent.url], peers: [{ host: '127.0.0.1', port: a.port }] })
  const bDir = join(dir, 'restarting')
  let b = await peer({ dataDir: bDir, trackerTimeoutMs: 300 })
  await b.get(link, { output: join(dir, 'b.bin') })
  await holding(b, shared.id, 6)
  await b.close()
  b = await peer({ dataDir: bDir, trackerTimeoutMs: 300 })
  t.ok(b.content(shared.id).have < 32, 'restarted mid-way')
  await t.resolves(completed(b, shared.id), 'completed from the peer the link named')
  t.same(await readFile(join(dir, 'b.bin')), data)
})

t.test('options are checked', async (t) => {
  t.throws(() => resolveOptions({ port: 70000 }), { code: ErrorCode.INVALID_ARGUMENT, message: /port/ })
  t.throws(() => resolveOptions({ maxUploads: 0 }), { message: /maxUploads/ })
  t.throws(() => resolveOptions({ trackers: ['http://x'] }), { message: /trackers/ })
  t.throws(() => resolveOptions({ reconnect: { initialMs: 100, maxMs: 10 } }), { message: /reconnect.maxMs/ })
  t.throws(() => resolveOptions({ heartbeatMs: 0 }), { message: /heartbeatMs/ })
  t.throws(() => resolveOptions({ slotYieldMs: 5000, stallTimeoutMs: 5000 }), { message: /stallTimeoutMs: must be an integer from 5001/ }, 'a stall outlasts the slot yield')
  t.throws(() => resolveOptions({ maxConnections: 0 }), { message: /maxConnections/ })
  t.throws(() => resolveOptions({ storeBacklogBytes: 0 }), { message: /storeBacklogBytes/ })
  t.match(resolveOptions({}), { maxConnections: 256, idleTimeoutMs: 60_000, slotYieldMs: 2000, stallTimeoutMs: 15_000, storeBacklogBytes: 32 * 1024 * 1024 })
  t.equal(resolveOptions({}).port, 7071)
  const other = await tempDir(t)
  await createPeer({ dataDir: other, host: '127.0.0.1', port: 0 }).then((p) => p.close())
  const held = await createPeer({ dataDir: other, host: '127.0.0.1', port: 0 })
  t.teardown(() => held.close())
  await t.rejects(createPeer({ dataDir: other, host: '127.0.0.1', port: 0 }), { message: /another daemon/ })
  await t.rejects(createPeer({ dataDir: await tempDir(t), host: '127.0.0.1', port: held.port }), { message: /in use/ })
})
