import { randomBytes } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import pLimit from 'p-limit'
import { pino } from 'pino'
import t from 'tap'
import { Download } from '../src/download/download.js'
import { TokenBucket } from '../src/rate/token-bucket.js'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { MemoryChunkStore } from '../src/store/memory-store.js'
import { TrackerPool } from '../src/tracker/tracker-pool.js'
import { tempDir, waitFor } from './helpers.js'

const CHUNK = 16 * 1024

t.test('a download waiting for sources takes no tokens from the shared download limit', async (t) => {
  // A source that hangs up on every connection: the download keeps waiting for one that works.
  const attempts: number[] = []
  const accepted = new EventEmitter()
  const source = createServer((socket) => {
    attempts.push(Date.now())
    socket.destroy()
    accepted.emit('attempt')
  })
  source.listen(0, '127.0.0.1')
  await once(source, 'listening')
  t.teardown(() => source.close())

  const dir = await tempDir(t)
  await writeFile(join(dir, 'f'), randomBytes(4 * CHUNK))
  const built = await manifestFromPath(join(dir, 'f'), { chunkSize: CHUNK })
  const store = new MemoryChunkStore()
  t.teardown(() => store.close())
  const record = await store.add({ manifestBytes: built.bytes, root: join(dir, 'out'), role: 'download', trackers: [] })
  const log = pino({ level: 'silent' })
  const trackers = new TrackerPool({ store, peerId: randomBytes(16), key: randomBytes(16), port: 0, load: () => 0, backoff: { initialMs: 50, maxMs: 100 }, requestTimeoutMs: 1000, haveDelayMs: 5, log })
  // One chunk's worth of tokens, refilled too slowly to matter here.
  const bucket = new TokenBucket(1, CHUNK)
  const download = new Download({
    record, store, peerId: randomBytes(16), trackers, peers: [{ host: '127.0.0.1', port: (source.address() as AddressInfo).port }], limit: pLimit(64), bucket, log,
    options: {
      perPeerInflight: 4, requestTimeoutMs: 80, connectTimeoutMs: 2000, banAfter: 2, maxPeers: 4, findIntervalMs: 1000, maxInvalid: 8, storeBacklogBytes: 8 * CHUNK,
    },
    onVerified: () => undefined, onDone: () => t.fail('nothing to download from'), onFailed: (err) => t.fail(err.message),
  })
  t.teardown(() => download.stop())
  download.start()

  // The retry comes from a tick, which pumps right after it; ticks come every 20 ms, so by then many have.
  await waitFor(accepted, 'attempt', { until: () => attempts.length >= 2, ms: 10_000, max: 2, what: 'a second connection to the source' })
  t.ok(attempts[1] - attempts[0] >= 500, 'the source was retried after a back-off, many ticks later')
  const took = await bucket.take(CHUNK, AbortSignal.timeout(1000)).then(() => true, () => false)
  t.ok(took, 'the chunk\'s worth of tokens is still there for a download that has a source')
})
