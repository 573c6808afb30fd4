import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pLimit from 'p-limit'
import { pino } from 'pino'
import t from 'tap'
import { Download } from '../src/download/download.js'
import { createPeer } from '../src/index.js'
import { TokenBucket } from '../src/rate/token-bucket.js'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { ChunkHasher } from '../src/store/chunk-hasher.js'
import { DiskChunkStore } from '../src/store/disk-store.js'
import { TrackerPool } from '../src/tracker/tracker-pool.js'
import { fakeTracker, swarmAnswers } from './fake-tracker.js'
import { orTimeout, tempDir } from './helpers.js'

/** At the hash worker's threshold, so pieces go through the worker as in a real download. */
const CHUNK = 256 * 1024
const CHUNKS = 16
const BACKLOG_CHUNKS = 4
const PER_PEER_INFLIGHT = 3

/**
 * Holds every chunk at the store's hashing step until the test lets them through: a disk far
 * slower than the network. Counts the pieces held there.
 */
class HashGate {
  waiting = 0
  mostWaiting = 0
  private through = false
  private readonly gate: (() => void)[] = []
  private readonly watchers: (() => void)[] = []

  constructor(private readonly hasher: ChunkHasher) {}

  readonly digest = async (data: Uint8Array): Promise<Uint8Array> => {
    this.waiting++
    this.mostWaiting = Math.max(this.mostWaiting, this.waiting)
    this.watchers.splice(0).forEach((wake) => wake())
    if (!this.through) await new Promise<void>((resolve) => this.gate.push(resolve))
    try {
      return await this.hasher.digest(data)
    } finally {
      this.waiting--
    }
  }

  /** Resolves once at least `n` pieces are held (or the deadline passes). */
  async untilWaiting(n: number, deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs
    while (this.waiting < n && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([new Promise<void>((resolve) => this.watchers.push(resolve)), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))])
      clearTimeout(timer)
    }
  }

  letThrough(): void {
    this.through = true
    this.gate.splice(0).forEach((wake) => wake())
  }
}

t.test('a download whose disk falls behind pauses its requests: received pieces waiting to be stored stay bounded', async (t) => {
  const tracker = await fakeTracker(t, { answer: swarmAnswers().answer })
  const dir = await tempDir(t)
  const seeder = await createPeer({ dataDir: join(dir, 'seeder'), host: '127.0.0.1', port: 0, trackers: [tracker.url] })
  t.teardown(() => seeder.close())
  const data = randomBytes(CHUNK * CHUNKS)
  const path = join(dir, 'data.bin')
  await writeFile(path, data)
  const shared = await seeder.share(path, { chunkSize: CHUNK })

  const hasher = new ChunkHasher()
  t.teardown(() => hasher.close())
  const gate = new HashGate(hasher)
  const store = new DiskChunkStore({ location: join(dir, 'db'), digest: gate.digest })
  await store.open()
  t.teardown(() => store.close())
  const built = await manifestFromPath(path, { chunkSize: CHUNK })
  const record = await store.add({ manifestBytes: built.bytes, root: join(dir, 'out.bin'), role: 'download', trackers: [] })
  const log = pino({ level: 'silent' })
  const trackers = new TrackerPool({ store, peerId: randomBytes(16), key: randomBytes(16), port: 0, load: () => 0, backoff: { initialMs: 50, maxMs: 100 }, requestTimeoutMs: 1000, haveDelayMs: 5, log })
  /** Settles when the download ends, done or failed (a failure fails the test there and then). */
  let ended: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (ended = resolve))
  const download = new Download({
    record, store, peerId: randomBytes(16), trackers, peers: [{ host: '127.0.0.1', port: seeder.port }], limit: pLimit(64), bucket: new TokenBucket(0), log,
    options: {
      perPeerInflight: PER_PEER_INFLIGHT, requestTimeoutMs: 5000, connectTimeoutMs: 2000, banAfter: 2, maxPeers: 4, findIntervalMs: 1000, maxInvalid: 8,
      storeBacklogBytes: BACKLOG_CHUNKS * CHUNK,
    },
    onVerified: () => undefined, onDone: () => ended(), onFailed: (err) => {
      t.fail(err.message)
      ended()
    },
  })
  t.teardown(() => download.stop())
  download.start()

  await gate.untilWaiting(BACKLOG_CHUNKS, 10_000)
  t.equal(gate.waiting, BACKLOG_CHUNKS, `${BACKLOG_CHUNKS} pieces arrived and wait for the disk`)
  // Nothing signals that no more requests went out; the pieces already asked for arrive within
  // this window on loopback, and more requests would bring more pieces in it.
  await gate.untilWaiting(BACKLOG_CHUNKS + 1, 500)
  t.equal(gate.mostWaiting, BACKLOG_CHUNKS, `requests in flight count against the backlog: no more than ${BACKLOG_CHUNKS} pieces ever waited (of ${CHUNKS})`)
  t.ok(seeder.status().contents.find((c) => c.id === shared.id)!.uploadedBytes <= BACKLOG_CHUNKS * CHUNK, 'the seeder was asked for no more than that')

  gate.letThrough()
  t.equal(await orTimeout(finished.then(() => 'ended'), 20_000), 'ended', 'the download ends')
  t.ok(download.complete, 'complete, once the disk catches up')
  t.ok((await readFile(join(dir, 'out.bin'))).equals(data), 'the file on disk has the right bytes')
  t.ok(store.get(record.id)!.have.complete, 'and every chunk is marked verified')
})
