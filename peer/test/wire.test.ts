import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { pino } from 'pino'
import { Bitfield, ErrorCode, frameHeader, fromHex, MAX_PEER_CLIENT_FRAME, MAX_PIECE_HEAD_BYTES, maxPeerServerFrame, peerCodec, PROTOCOL_VERSION } from '@shoal/protocol'
import type { PeerMessage } from '@shoal/protocol'
import { TokenBucket } from '../src/rate/token-bucket.js'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { MemoryChunkStore } from '../src/store/memory-store.js'
import { BufferPool } from '../src/wire/buffer-pool.js'
import { FramedSocket } from '../src/wire/framed-socket.js'
import { fetchManifestFrom } from '../src/wire/manifest-client.js'
import { pieceFrameHead } from '../src/wire/piece-frame.js'
import { WireClient } from '../src/wire/wire-client.js'
import { WireServer } from '../src/wire/wire-server.js'
import type { WireServerInit } from '../src/wire/wire-server.js'
import { orTimeout, tempDir, waitFor } from './helpers.js'

const CHUNK = 16 * 1024
const log = pino({ level: 'silent' })
const serverId = new Uint8Array(16).fill(1)
const clientId = new Uint8Array(16).fill(2)

/** A server holding a 5-chunk content (or `shape`; chunk 4 is missing) on 127.0.0.1. */
async function setup(t: Test, over: Partial<WireServerInit> = {}, shape = { chunkSize: CHUNK, chunks: 5 }) {
  const dir = await tempDir(t)
  const data = randomBytes(shape.chunks * shape.chunkSize)
  await writeFile(join(dir, 'f'), data)
  const built = await manifestFromPath(join(dir, 'f'), { chunkSize: shape.chunkSize })
  const store = new MemoryChunkStore()
  t.teardown(() => store.close())
  const rec = await store.add({ manifestBytes: built.bytes, root: join(dir, 'f'), role: 'seed', trackers: [] })
  rec.have.clear(4)
  const uploaded: number[] = []
  const server = new WireServer({
    host: '127.0.0.1', port: 0, peerId: serverId, store, bucket: new TokenBucket(0), maxUploads: 4,
    policy: { maxInvalid: 3, maxQueued: 8, busyRetryMs: 250, yieldMs: 1000, stallTimeoutMs: 5000 }, handshakeTimeoutMs: 2000, spreadPatienceMs: 1000, log,
    maxConnections: 16, idleTimeoutMs: 10_000,
    onUploaded: (_c, bytes) => uploaded.push(bytes), ...over,
  })
  const port = await server.listen()
  t.teardown(() => server.close())
  const content = fromHex(built.id, 32)!
  const client = async (peerId = clientId, id = content) => {
    const c = await WireClient.connect({ host: '127.0.0.1', port, peerId, content: id, chunkSize: shape.chunkSize, chunkCount: shape.chunks, timeoutMs: 2000, maxInvalid: 3 })
    t.teardown(() => c.close())
    return c
  }
  /** A raw framed socket, for sending what a well-behaved client never would. */
  const raw = async () => {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const framed = new FramedSocket(socket)
    const inbox: PeerMessage[] = []
    framed.on('message', (m) => inbox.push(m))
    t.teardown(() => framed.destroy())
    /** Resolves once `n` messages have arrived in all (several may come in one read); fails if the connection closes first. */
    const received = async (n: number) => {
      const what = `${n} messages in all (${inbox.length} so far)`
      if (inbox.length < n && framed.isClosed) throw new Error(`closed before ${what}`)
      await waitFor(framed, 'message', { until: () => inbox.length >= n, failOn: { close: () => true }, ms: 5000, what })
    }
    return { framed, inbox, socket, received }
  }
  return { server, port, data, built, content, client, raw, uploaded, store }
}

/** The next `event` of a downloader within `ms`; fails if its connection closes first. */
function next(c: WireClient, event: string, ms = 5000): Promise<unknown[]> {
  return waitFor(c, event, { failOn: { close: () => true }, ms })
}

function nextPiece(c: WireClient) {
  return next(c, 'piece', 10_000) as Promise<[{ id: number; chunk: number }, Uint8Array]>
}

/** 'closed' once `it` closes, or 'timeout' if it has not within `ms`. */
function closedWithin(it: FramedSocket | WireClient, ms: number): Promise<'closed' | 'timeout'> {
  return orTimeout(once(it, 'close').then(() => 'closed' as const), ms)
}

/** A peer-wire server on 127.0.0.1 that answers each message as `answer` says: a peer misbehaving on purpose. */
async function scripted(t: Test, answer: (msg: PeerMessage, framed: FramedSocket) => void) {
  const server = createServer((socket) => {
    const framed = new FramedSocket(socket)
    framed.on('message', (m) => answer(m, framed))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port }
}

/** A source of `chunkCount` chunks that answers the handshake, then each request as `answer` says. */
async function scriptedSource(t: Test, chunkCount: number, answer: (msg: PeerMessage, framed: FramedSocket) => void) {
  return scripted(t, (m, framed) => {
    if (m.type !== 'handshake') return answer(m, framed)
    framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: serverId, content: m.content })
    framed.send({ type: 'bitfield', bitfield: Bitfield.full(chunkCount).bytes })
  })
}

t.test('a piece frame head plus its payload decodes as the piece', async (t) => {
  const data = randomBytes(70_000)
  const head = pieceFrameHead({ id: 123456, chunk: 77, offset: 5 }, data.length)
  const frame = Buffer.concat([head, data])
  t.equal(frame.readUInt32BE(0), frame.length - 4)
  const msg = peerCodec.decode(frame.subarray(4))
  t.same(msg, { type: 'piece', id: 123456, chunk: 77, offset: 5, data })
})

t.test('handshake, bitfield and pipelined pieces', async (t) => {
  const { client, data, uploaded } = await setup(t)
  const c = await client()
  t.equal(c.remotePeerId, '01'.repeat(16))
  t.same(c.bitfield.toArray(), [0, 1, 2, 3])
  const got = new Map<number, Uint8Array>()
  const all = new Promise<void>((resolve) => c.on('piece', (req, bytes) => {
    got.set(req.chunk, bytes)
    if (got.size === 4) resolve()
  }))
  for (const chunk of [3, 0, 2, 1]) c.request(chunk, CHUNK)
  t.equal(c.inflight, 4)
  await all
  for (const [chunk, bytes] of got) t.same(Buffer.from(bytes), data.subarray(chunk * CHUNK, (chunk + 1) * CHUNK))
  t.same(uploaded, [CHUNK, CHUNK, CHUNK, CHUNK])
  t.equal(c.inflight, 0)
})

t.test('requests for chunks not held or out of range are rejected', async (t) => {
  const { client } = await setup(t)
  const c = await client()
  c.request(4, CHUNK)
  t.match(await next(c, 'rejected'), [{ chunk: 4 }, ErrorCode.NOT_FOUND])
  c.request(3, CHUNK + 1)
  t.match(await next(c, 'rejected'), [{ chunk: 3 }, ErrorCode.OUT_OF_RANGE])
})

t.test('a content not served is refused at the handshake', async (t) => {
  const { client } = await setup(t)
  await t.rejects(client(clientId, new Uint8Array(32)), { code: ErrorCode.NOT_FOUND })
  await t.rejects(client(serverId), { code: ErrorCode.BAD_MESSAGE }, 'nor does a peer talk to itself')
})

t.test('new chunks are announced to connected downloaders', async (t) => {
  const { client, server, built, store } = await setup(t)
  const c = await client()
  store.get(built.id)!.have.set(4)
  server.announce(built.id, [4])
  t.same(await next(c, 'have'), [[4]])
  t.ok(c.bitfield.has(4))
  t.equal(server.connections(built.id), 1)
})

t.test('saturated upload slots answer busy', async (t) => {
  const { client } = await setup(t, { maxUploads: 1, bucket: new TokenBucket(64 * 1024, 1) })
  const a = await client()
  const b = await client(new Uint8Array(16).fill(3))
  a.request(0, CHUNK)
  a.request(1, CHUNK)
  b.request(2, CHUNK)
  t.match(await next(b, 'busy'), [{ chunk: 2 }, 250])
  await nextPiece(a)
  await nextPiece(a)
  b.request(2, CHUNK)
  t.match((await nextPiece(b))[0], { chunk: 2 }, 'the slot is free once a is served')
})

t.test('the upload limit holds and a cancelled request is not sent', async (t) => {
  const rate = 128 * 1024
  const { client } = await setup(t, { bucket: new TokenBucket(rate, 1) })
  const c = await client()
  const start = performance.now()
  const pieces: number[] = []
  c.on('piece', (req) => pieces.push(req.chunk))
  c.request(0, CHUNK)
  c.request(1, CHUNK)
  const third = c.request(2, CHUNK)
  c.cancel(third.id)
  c.request(3, CHUNK)
  await waitFor(c, 'piece', { until: () => pieces.length >= 3, failOn: { close: () => true }, ms: 5000, what: '3 pieces' })
  const seconds = (performance.now() - start) / 1000
  t.same(pieces, [0, 1, 3])
  t.ok(seconds >= (3 * CHUNK) / rate - 0.05, `3 chunks at ${rate} B/s took ${seconds.toFixed(2)} s`)
})

t.test('too many queued requests are refused', async (t) => {
  const { client } = await setup(t, { bucket: new TokenBucket(1024, 1), policy: { maxInvalid: 3, maxQueued: 2, busyRetryMs: 250, yieldMs: 1000, stallTimeoutMs: 5000 } })
  const c = await client()
  for (let i = 0; i < 3; i++) c.request(i, CHUNK)
  t.match(await next(c, 'rejected'), [{}, ErrorCode.LIMIT_EXCEEDED])
})

t.test('bad frames get error codes until the budget is spent', async (t) => {
  // Well within the handshake and idle timeouts, so only what was sent can close them.
  const { raw, content } = await setup(t, { handshakeTimeoutMs: 60_000 })
  const { framed, inbox, received } = await raw()
  const firstClosed = closedWithin(framed, 1000)
  framed.send({ type: 'request', id: 1, content, chunk: 0, offset: 0, length: CHUNK })
  await received(1)
  t.match(inbox.shift(), { type: 'error', code: ErrorCode.BAD_MESSAGE, message: /handshake first/ })
  t.equal(await firstClosed, 'closed', 'and the connection is closed')

  const second = await raw()
  const secondClosed = closedWithin(second.framed, 1000)
  second.framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: clientId, content })
  await second.received(2)
  second.inbox.length = 0
  const garbage = Buffer.from([0x92, 0x7f, 0x01])
  for (let i = 0; i < 4; i++) second.socket.write(Buffer.concat([frameHeader(garbage.length), garbage]))
  second.framed.send({ type: 'piece', id: 1, chunk: 0, offset: 0, data: new Uint8Array(1) })
  t.equal(await secondClosed, 'closed', 'the fourth bad frame spends the budget of 3 and closes the connection')
  t.same(second.inbox.map((m) => m.type === 'error' && m.code), Array(4).fill(ErrorCode.BAD_MESSAGE), 'an error for each bad frame up to that one, none for the piece after it')
})

t.test('a frame length over the cap ends the connection at once', async (t) => {
  // No handshake timeout comes meanwhile: only the cap can end it.
  const { raw } = await setup(t, { handshakeTimeoutMs: 60_000 })
  const { framed, socket } = await raw()
  socket.write(frameHeader(0xffffffff))
  t.equal(await closedWithin(framed, 1000), 'closed', 'closed at the length')
})

t.test('a failed accept is logged and the server keeps serving', async (t) => {
  const { log, line } = firstLogLine()
  const { server, client } = await setup(t, { log })
  // Running out of file descriptors cannot be arranged here; the listening server reports it like this.
  server['server'].emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }))
  t.match(await orTimeout(line, 1000), { msg: 'could not accept a peer-wire connection', err: { code: 'EMFILE' } })
  const c = await client()
  c.request(0, CHUNK)
  t.match((await nextPiece(c))[0], { chunk: 0 })
})

t.test('a frame longer than anything a downloader sends ends the connection without waiting for its bytes', async (t) => {
  const { raw, content } = await setup(t)
  const { framed, socket, received, inbox } = await raw()
  framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: clientId, content })
  framed.send({ type: 'error', id: 1, code: `ERR_${'X'.repeat(59)}`, message: 'x'.repeat(1024) })
  framed.send({ type: 'request', id: 2, content, chunk: 0, offset: 0, length: CHUNK })
  await received(3)
  t.match(inbox[2], { type: 'piece', id: 2 }, 'the longest error a downloader can send is read like any frame')
  // All but the last byte of a frame one byte too long: the server must not wait for it.
  socket.write(frameHeader(MAX_PEER_CLIENT_FRAME + 1))
  socket.write(Buffer.alloc(MAX_PEER_CLIENT_FRAME))
  t.equal(await closedWithin(framed, 2000), 'closed', 'the connection is closed at the length')
})

t.test('a downloader reads frames no longer than the content\'s pieces and haves', async (t) => {
  const chunks = 5
  const bound = maxPeerServerFrame(CHUNK, chunks)
  const source = await scriptedSource(t, chunks, (m, framed) => {
    if (m.type !== 'request') return
    if (m.chunk === 0) return framed.sendPiece({ id: m.id, chunk: 0, offset: 0, data: randomBytes(CHUNK) })
    // All but the last byte of a frame one byte too long: the downloader must not wait for it.
    framed.socket.write(frameHeader(bound + 1))
    framed.socket.write(Buffer.alloc(bound))
  })
  const c = await WireClient.connect({ ...source, peerId: clientId, content: new Uint8Array(32), chunkSize: CHUNK, chunkCount: chunks, timeoutMs: 2000, maxInvalid: 3 })
  t.teardown(() => c.close())
  c.request(0, CHUNK)
  t.match((await nextPiece(c))[0], { chunk: 0 }, 'a whole chunk\'s piece is read')
  c.request(1, CHUNK)
  t.match(await orTimeout(once(c, 'close'), 2000), [{ code: ErrorCode.TOO_LARGE }], 'a longer frame ends the connection at its length')
})

t.test('a piece or have the downloader does not hand on gives its receive block back at once', async (t) => {
  const chunks = 2000
  const source = await scriptedSource(t, chunks, (m, framed) => {
    if (m.type === 'request' && m.chunk === 0) framed.sendPiece({ id: m.id, chunk: 1, offset: 0, data: randomBytes(CHUNK) })
    if (m.type === 'request' && m.chunk === 4) framed.send({ type: 'have', chunks: Array.from({ length: chunks }, (_, c) => c) })
    if (m.type !== 'cancel') return
    framed.sendPiece({ id: m.id, chunk: 2, offset: 0, data: randomBytes(CHUNK) })
    // Read after the late piece: once it arrives, so has the piece.
    framed.send({ type: 'have', chunks: [3] })
  })
  // One block, lent to every frame long enough to be read into its own buffer.
  const pool = new BufferPool(CHUNK + MAX_PIECE_HEAD_BYTES, 1)
  const block = pool.take(CHUNK)!
  pool.give(block)
  const blockBack = (): boolean => {
    const next = pool.take(1)!
    pool.give(next)
    return next.buffer === block.buffer
  }
  const c = await WireClient.connect({ ...source, peerId: clientId, content: new Uint8Array(32), chunkSize: CHUNK, chunkCount: chunks, timeoutMs: 2000, maxInvalid: 3, pool })
  t.teardown(() => c.close())
  c.request(0, CHUNK)
  await next(c, 'bad')
  t.ok(blockBack(), 'after a piece of the wrong chunk')
  c.cancel(c.request(2, CHUNK).id)
  await next(c, 'have')
  t.ok(blockBack(), 'after a piece for a cancelled request')
  c.request(4, CHUNK)
  t.equal(((await next(c, 'have'))[0] as number[]).length, chunks)
  t.ok(blockBack(), 'after a have naming every chunk')
})

t.test('a silent connection is dropped after the handshake timeout', async (t) => {
  const { raw } = await setup(t, { handshakeTimeoutMs: 50 })
  const { framed } = await raw()
  t.equal(await closedWithin(framed, 1000), 'closed', 'long before the idle timeout')
})

t.test('a saturated server holding the whole content refuses chunks it has sent more often than others', async (t) => {
  const { client, store, built } = await setup(t, { bucket: new TokenBucket(32 * 1024, 1), maxUploads: 2 })
  store.get(built.id)!.have.set(4)
  const a = await client()
  const b = await client(new Uint8Array(16).fill(3))
  const rejected: string[] = []
  b.on('rejected', (req, code) => rejected.push(`${req.chunk}:${code}`))
  for (const chunk of [0, 1, 2]) a.request(chunk, CHUNK)
  // Queued requests outnumber what two connections keep in flight: saturated. Chunk 0 has
  // gone out once while chunk 3 never has, so b is sent elsewhere for 0 and served 3.
  for (const chunk of [3, 0]) b.request(chunk, CHUNK)
  t.match((await nextPiece(b))[0], { chunk: 3 })
  t.same(rejected, ['0:ERR_BUSY'])
})

t.test('a rate-limited partial holder serves second copies (its least-sent chunk may be one it lacks)', async (t) => {
  const { client } = await setup(t, { bucket: new TokenBucket(64 * 1024, 1), maxUploads: 2 })
  const a = await client()
  const b = await client(new Uint8Array(16).fill(3))
  const rejected: string[] = []
  b.on('rejected', (req, code) => rejected.push(`${req.chunk}:${code}`))
  for (const chunk of [0, 1, 2, 3]) a.request(chunk, CHUNK)
  t.match((await nextPiece(a))[0], { chunk: 0 })
  // Three requests still wait for two connections (saturated), and chunk 4 never went out.
  b.request(0, CHUNK)
  t.match((await nextPiece(b))[0], { chunk: 0 }, 'the second copy is sent')
  t.same(rejected, [])
})

t.test('a rate-limited seed refuses a second copy while another chunk has not gone out, and the refusal keeps no upload slot', async (t) => {
  const { client, store, built } = await setup(t, { bucket: new TokenBucket(1024 * 1024, 1), maxUploads: 1 })
  store.get(built.id)!.have.set(4)
  const a = await client()
  const b = await client(new Uint8Array(16).fill(3))
  a.request(0, CHUNK)
  t.match((await nextPiece(a))[0], { chunk: 0 })
  b.request(0, CHUNK)
  const [req, code] = await next(b, 'rejected') as [{ chunk: number }, string]
  t.equal(req.chunk, 0)
  t.equal(code, ErrorCode.BUSY, 'with nothing else queued, the limit alone makes the upload the bottleneck')
  a.request(1, CHUNK)
  const answer = await Promise.race([nextPiece(a).then(() => 'piece'), once(a, 'busy').then(() => 'busy')])
  t.equal(answer, 'piece', 'the only slot is free for the next request')
})

t.test('get-manifest: served before or after a handshake, verified against the id, refused for unknown content', async (t) => {
  const { port, built, content, raw } = await setup(t)
  const peer = { host: '127.0.0.1', port }
  t.same(Buffer.from(await fetchManifestFrom(peer, content, 2000)), Buffer.from(built.bytes), 'the manifest, with no handshake')
  const unknown = new Uint8Array(32).fill(9)
  await t.rejects(fetchManifestFrom(peer, unknown, 2000), { code: ErrorCode.NOT_FOUND, message: /is not held here/ })

  const r = await raw()
  r.framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: clientId, content })
  r.framed.send({ type: 'get-manifest', id: 5, content: unknown })
  r.framed.send({ type: 'get-manifest', id: 6, content })
  await r.received(4)
  t.same(r.inbox.map((m) => m.type), ['handshake', 'bitfield', 'error', 'manifest'], 'after a handshake too, neither answer ends the connection')
  t.match(r.inbox[2], { id: 5, code: ErrorCode.NOT_FOUND })
  t.match(r.inbox[3], { id: 6 })
  t.notOk(r.framed.isClosed)
})

t.test('a peer asking for the manifest again and again without reading is disconnected; a downloader beside it is served', async (t) => {
  const { raw, content, client } = await setup(t)
  const honest = await client()
  const r = await raw()
  // Past the handshake, so only the asking can end the connection.
  r.framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: new Uint8Array(16).fill(3), content })
  await r.received(2)
  r.socket.pause()
  const ask = peerCodec.encode({ type: 'get-manifest', id: 1, content })
  const frame = Buffer.concat([frameHeader(ask.length), ask])
  r.socket.write(Buffer.concat(Array.from({ length: 10_000 }, () => frame)))
  honest.request(0, CHUNK)
  t.match((await nextPiece(honest))[0], { chunk: 0 }, 'the downloader is served')
  r.socket.resume()
  t.equal(await closedWithin(r.framed, 5000), 'closed', 'the asker is disconnected')
  const manifests = r.inbox.filter((m) => m.type === 'manifest').length
  t.ok(manifests <= 3, `${manifests} of 10,000 manifests asked for were sent`)
  t.match(r.inbox.filter((m) => m.type === 'error'), [{ code: ErrorCode.LIMIT_EXCEEDED }], 'asking again before the last manifest went out is invalid')
})

t.test('a manifest that does not hash to the id, or a peer that answers otherwise, is refused', async (t) => {
  const { built, content } = await setup(t)
  const other = await manifestFromPath(fileURLToPath(import.meta.url), { chunkSize: CHUNK })
  /** A peer that answers get-manifest with `reply(id)`. */
  const liar = (reply: (id: number) => PeerMessage) => scripted(t, (m, framed) => m.type === 'get-manifest' && framed.send(reply(m.id)))
  const wrong = await liar((id) => ({ type: 'manifest', id, content, manifest: other.bytes }))
  await t.rejects(fetchManifestFrom(wrong, content, 2000), { code: ErrorCode.HASH_MISMATCH, message: /does not hash to the content id/ })
  const odd = await liar((id) => ({ type: 'busy', id, retryAfterMs: 1 }))
  await t.rejects(fetchManifestFrom(odd, content, 2000), { code: ErrorCode.BAD_MESSAGE, message: /answered with busy/ })
  const stray = await liar((id) => ({ type: 'have', chunks: [id] }))
  const wrongId = await liar(() => ({ type: 'error', id: 99, code: ErrorCode.INTERNAL, message: 'not for you' }))
  await t.rejects(fetchManifestFrom(stray, content, 2000), { code: ErrorCode.BAD_MESSAGE })
  await t.rejects(fetchManifestFrom(wrongId, content, 2000), { code: ErrorCode.BAD_MESSAGE })
  const newerCode = await liar(() => ({ type: 'error', id: 1, code: 'ERR_SOMETHING_NEW', message: 'later' }))
  await t.rejects(fetchManifestFrom(newerCode, content, 2000), { code: ErrorCode.INTERNAL, message: /later/ })
  t.ok(built.bytes.length > 0)
})

t.test('get-manifest from a peer that never answers times out; one that hangs up fails at once', async (t) => {
  const { content } = await setup(t)
  const server = createServer(() => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const port = (server.address() as AddressInfo).port
  await t.rejects(fetchManifestFrom({ host: '127.0.0.1', port }, content, 200), { code: ErrorCode.INTERNAL, message: /in time/ })
  const closing = createServer((s) => s.destroy())
  closing.listen(0, '127.0.0.1')
  await once(closing, 'listening')
  t.teardown(() => closing.close())
  await t.rejects(fetchManifestFrom({ host: '127.0.0.1', port: (closing.address() as AddressInfo).port }, content, 2000), /closed the connection/)
})

/** A warn-level logger, and a promise of the first line it writes. */
function firstLogLine(): { log: WireServerInit['log']; line: Promise<{ msg: string }> } {
  let resolve!: (line: { msg: string }) => void
  const line = new Promise<{ msg: string }>((r) => (resolve = r))
  return { line, log: pino({ level: 'warn' }, { write: (text: string) => resolve(JSON.parse(text) as { msg: string }) }) }
}

/** Handshakes on a raw connection, asks for `chunks` whole chunks, then stops reading after the first piece. */
async function stallReader(raw: Awaited<ReturnType<typeof setup>>['raw'], content: Uint8Array, chunks: number, chunkSize: number) {
  const r = await raw()
  r.framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: new Uint8Array(16).fill(9), content })
  for (let chunk = 0; chunk < chunks; chunk++) r.framed.send({ type: 'request', id: chunk + 1, content, chunk, offset: 0, length: chunkSize })
  await waitFor(r.framed, 'message', { until: () => r.inbox.some((m) => m.type === 'piece'), failOn: { close: () => true }, ms: 5000, what: 'a piece' })
  r.socket.pause()
  return r
}

const BIG = { chunkSize: 1024 * 1024, chunks: 40 }

t.test('a peer that stops reading gives its upload slot to others and is disconnected', async (t) => {
  const { log, line } = firstLogLine()
  const policy = { maxInvalid: 3, maxQueued: 64, busyRetryMs: 50, yieldMs: 300, stallTimeoutMs: 1500 }
  const { raw, content, client } = await setup(t, { maxUploads: 1, policy, log }, BIG)
  const started = Date.now()
  await stallReader(raw, content, 36, BIG.chunkSize)
  const honest = await client()
  let busy = 0
  // Busy while the slot is held; then, as chunk 0 went out more often than others, sent elsewhere for a while.
  const retry = (req: { chunk: number }): void => {
    busy++
    setTimeout(() => honest.request(req.chunk, BIG.chunkSize), 50)
  }
  honest.on('busy', retry)
  honest.on('rejected', retry)
  honest.request(0, BIG.chunkSize)
  t.match((await nextPiece(honest))[0], { chunk: 0 }, `a well-behaved peer is served (after ${busy} busy replies)`)
  t.match(await orTimeout(line, 10_000), { msg: /peer stopped reading \(took no bytes for 1500 ms\); connection closed/ }, 'the stalled reader is disconnected with a clear log line')
  const lived = Date.now() - started
  t.ok(lived >= 1500, `after the stall timeout (${lived} ms)`)
})

t.test('a peer that sends on without reading its replies is disconnected once they pass the cap', async (t) => {
  const { log, line } = firstLogLine()
  const maxUnsentBytes = 64 * 1024
  const { raw, content, server, built } = await setup(t, { log, maxUnsentBytes })
  const r = await raw()
  r.framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: clientId, content })
  await r.received(2)
  r.socket.pause()
  // Each is answered with an error that counts against nothing; the kernel's buffers take a few MiB of them first.
  const ask = peerCodec.encode({ type: 'get-manifest', id: 7, content: new Uint8Array(32).fill(9) })
  const frame = Buffer.concat([frameHeader(ask.length), ask])
  r.socket.write(Buffer.concat(Array.from({ length: 100_000 }, () => frame)))
  t.match(await orTimeout(line, 10_000), { msg: /^peer stopped reading \(\d+ bytes would be unsent\); connection closed$/ }, 'a log line says why')
  r.socket.resume()
  t.equal(await closedWithin(r.framed, 2000), 'closed')
  t.equal(server.connections(built.id), 0, 'the connection is gone')
})

t.test('a parked reader that reads again finds its slot taken and is told busy', async (t) => {
  const policy = { maxInvalid: 3, maxQueued: 64, busyRetryMs: 50, yieldMs: 300, stallTimeoutMs: 10_000 }
  const { raw, content, client } = await setup(t, { maxUploads: 1, policy, bucket: new TokenBucket(8 * 1024 * 1024) }, BIG)
  const stalled = await stallReader(raw, content, 36, BIG.chunkSize)
  const honest = await client()
  const retry = (req: { chunk: number }): void => void setTimeout(() => honest.request(req.chunk, BIG.chunkSize), 50)
  honest.on('busy', retry)
  honest.on('rejected', retry)
  for (let chunk = 0; chunk < 30; chunk++) honest.request(chunk, BIG.chunkSize)
  await nextPiece(honest)
  // The honest peer holds the only slot for seconds at 8 MiB/s; the stalled one reads again.
  stalled.socket.resume()
  await waitFor(stalled.framed, 'message', { until: () => stalled.inbox.some((m) => m.type === 'busy'), failOn: { close: () => true }, ms: 5000, what: 'a busy reply' })
  t.pass('the rest of its queue is answered busy')
})

t.test('stalled readers beyond the slot count are dropped, oldest first', async (t) => {
  const { UploadSlots } = await import('../src/wire/upload-slots.js')
  const slots = new UploadSlots<{ name: string }>(1)
  const [a, b, c] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }]
  t.ok(slots.tryAcquire(a))
  t.notOk(slots.tryAcquire(b), 'one slot')
  t.equal(slots.park(a), undefined, 'a parks')
  t.ok(slots.tryAcquire(b), 'and its slot goes to b')
  t.equal(slots.park(b), a, 'a second parked holder pushes out the oldest')
  t.ok(slots.tryAcquire(c))
  t.notOk(slots.tryAcquire(b), 'a parked holder waits like anyone for a slot')
  slots.release(c)
  t.ok(slots.tryAcquire(b))
  t.equal(slots.active, 1)
})

t.test('an idle connection is closed after the idle timeout', async (t) => {
  const { client } = await setup(t, { idleTimeoutMs: 200 })
  const started = Date.now()
  const c = await client()
  c.request(0, CHUNK)
  await nextPiece(c)
  t.equal(await closedWithin(c, 2000), 'closed')
  t.ok(Date.now() - started >= 200, `closed after ${Date.now() - started} ms`)
})

t.test('at the connection cap a new connection replaces the longest idle one', async (t) => {
  const { client } = await setup(t, { maxConnections: 2 })
  const a = await client(new Uint8Array(16).fill(3))
  const b = await client(new Uint8Array(16).fill(4))
  b.request(0, CHUNK)
  await nextPiece(b)
  const aClosed = closedWithin(a, 1000)
  const c = await client(new Uint8Array(16).fill(5))
  t.equal(await aClosed, 'closed')
  t.ok(a.closed && !b.closed, 'the longest idle went')
  c.request(1, CHUNK)
  t.match((await nextPiece(c))[0], { chunk: 1 }, 'the newcomer is served')
})

t.test('at the connection cap with every connection busy a new one is refused', async (t) => {
  const { client } = await setup(t, { maxConnections: 1, bucket: new TokenBucket(1024, 1) })
  const a = await client(new Uint8Array(16).fill(3))
  a.request(0, CHUNK)
  await t.rejects(client(new Uint8Array(16).fill(4)), { code: ErrorCode.BUSY }, 'refused at the handshake')
  t.notOk(a.closed, 'the busy one stays')
})

t.test('connections waiting for their handshake are capped at twice the connection cap, oldest closed first', async (t) => {
  // No handshake timeout comes meanwhile: only the cap closes them.
  const { raw, content } = await setup(t, { maxConnections: 1, handshakeTimeoutMs: 60_000 })
  type Raw = Awaited<ReturnType<typeof raw>>
  /** The server still serves it: a get-manifest, answered before the handshake, is answered (received fails on a close). */
  const served = async (...conns: Raw[]) => {
    for (const r of conns) {
      r.framed.send({ type: 'get-manifest', id: 1, content })
      await r.received(r.inbox.length + 1)
    }
    return conns.every((r) => r.inbox.at(-1)?.type === 'manifest')
  }
  const first = await raw()
  const second = await raw()
  t.ok(await served(first, second), 'two wait for their handshake')
  const firstClosed = closedWithin(first.framed, 1000)
  const third = await raw()
  t.equal(await firstClosed, 'closed', 'a third closes the oldest')
  t.ok(await served(second, third), 'and only it')
  const secondClosed = closedWithin(second.framed, 1000)
  const fourth = await raw()
  t.equal(await secondClosed, 'closed', 'a fourth closes the next oldest')
  t.ok(await served(third, fourth), 'and only it')
})
