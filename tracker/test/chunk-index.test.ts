import t from 'tap'
import { MemoryChunkIndex } from '../src/memory-index.js'
import { MAX_BANS, MAX_REPORTED } from '../src/swarm.js'
import { chunkIndexSuite } from './lib/chunk-index-suite.js'
import { bits, testContent, testPeer } from './lib/index-fixtures.js'

chunkIndexSuite(t, (options) => new MemoryChunkIndex(options))

t.test('what a swarm remembers of reports is bounded; the oldest is forgotten first', (t) => {
  const A = testContent(1)
  const handedOut = (index: MemoryChunkIndex, n: number): boolean => {
    const key = testPeer(n).key
    return index.find(undefined, A, bits(1, [0]), 200, false).peers.some((p) => Buffer.from(p.peerId).toString('hex') === key)
  }
  const swarmOf = (index: MemoryChunkIndex, count: number): void => {
    for (let n = 0; n < count; n++) index.register(testPeer(n), [{ content: A, chunkCount: 1, bitfield: bits(1, [0]) }])
  }
  /** Leaves only peer 0 (which keeps the swarm alive) and `kept` (which leave and rejoin). */
  const narrowTo = (index: MemoryChunkIndex, count: number, kept: number[]): void => {
    for (let n = 1; n < count; n++) index.drop(testPeer(n).key)
    for (const n of kept) index.register(testPeer(n), [{ content: A, chunkCount: 1, bitfield: bits(1, [0]) }])
  }

  const bans = new MemoryChunkIndex({ banThreshold: 1, findScanLimit: 256 })
  swarmOf(bans, MAX_BANS + 2)
  for (let n = 1; n <= MAX_BANS + 1; n++) bans.report(testPeer(0).key, A, testPeer(n).key)
  narrowTo(bans, MAX_BANS + 2, [1, MAX_BANS + 1])
  t.ok(handedOut(bans, 1), `the oldest of ${MAX_BANS + 1} bans is forgotten`)
  t.notOk(handedOut(bans, MAX_BANS + 1), 'the newest outlives leaving and rejoining')

  const reports = new MemoryChunkIndex({ banThreshold: 2, findScanLimit: 256 })
  swarmOf(reports, MAX_REPORTED + 3)
  for (let n = 2; n <= MAX_REPORTED + 2; n++) reports.report(testPeer(0).key, A, testPeer(n).key)
  reports.report(testPeer(1).key, A, testPeer(2).key)
  reports.report(testPeer(1).key, A, testPeer(MAX_REPORTED + 2).key)
  narrowTo(reports, MAX_REPORTED + 3, [2, MAX_REPORTED + 2])
  t.ok(handedOut(reports, 2), `the first report of ${MAX_REPORTED + 1} targets was forgotten, so a second is not a ban`)
  t.notOk(handedOut(reports, MAX_REPORTED + 2), 'the newest target’s two reports ban it')
  t.end()
})
