import { ErrorCode } from '@shoal/protocol'
import type { ChunkIndex, ChunkIndexOptions } from '../../src/chunk-index.js'
import { bits, range, setBits, testContent, testPeer } from './index-fixtures.js'
import { rarestProblem } from './rarest-check.js'
import type { TapTest } from './tap-test.js'

export type IndexFactory = (options?: ChunkIndexOptions) => ChunkIndex

const A = testContent(1)
const B = testContent(2)
const [P1, P2, P3, P4, P5] = [1, 2, 3, 4, 5].map(testPeer)

/**
 * The contract every ChunkIndex implementation satisfies; run it against each one.
 * Randomized agreement with a naive model lives next to it (index-model.test).
 */
export function chunkIndexSuite(t: TapTest, create: IndexFactory): void {
  t.test('register lists holdings, availability and counters', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 10, bitfield: bits(10, [0, 1, 2]) }])
    index.register(P2, [{ content: A, chunkCount: 10, bitfield: bits(10, [2, 3]) }, { content: B, chunkCount: 3, bitfield: bits(3, [0, 1, 2]) }])
    t.same(index.stats(), { peersOnline: 2, contents: 2, chunkReplicas: 8 })
    t.same(index.availability(A), [1, 1, 2, 1, 0, 0, 0, 0, 0, 0])
    t.same(index.members(A).sort(), [P1.key, P2.key].sort())
    t.same(index.holdings(P2.key)?.map((h) => h.content), [A, B])
    t.equal(index.chunkCountOf(A), 10)
    t.same(index.contentStats(B), { peers: 1, seeders: 1, chunkCount: 3, availability: { min: 1, mean: 1 }, underReplicatedChunks: 3 })
    t.equal(index.availability(testContent(9)), undefined)
    t.equal(index.holdings(P5.key), undefined)
    t.same(index.members(testContent(9)), [])
    t.end()
  })

  t.test('a second register is a full resync', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 8, bitfield: bits(8, [0, 1]) }])
    index.register(P1, [{ content: B, chunkCount: 4, bitfield: bits(4, [3]) }])
    t.equal(index.availability(A), undefined, 'the old swarm is gone')
    t.same(index.stats(), { peersOnline: 1, contents: 1, chunkReplicas: 1 })
    index.register(P1, [{ content: B, chunkCount: 6, bitfield: bits(6, []) }])
    t.equal(index.chunkCountOf(B), 6, 'the sole member may change the chunk count')
    t.end()
  })

  t.test('an invalid register changes nothing', (t) => {
    const index = create({ knownChunkCount: (c) => (c === B ? 5 : undefined), maxContentsPerPeer: 2, maxIndexedChunks: 20 })
    index.register(P1, [{ content: A, chunkCount: 8, bitfield: bits(8, [1]) }])
    const before = JSON.stringify([index.stats(), index.availability(A), index.holdings(P1.key)])
    const cases: [string, Parameters<ChunkIndex['register']>[1], string][] = [
      ['listed twice', [{ content: B, chunkCount: 5, bitfield: bits(5, []) }, { content: B, chunkCount: 5, bitfield: bits(5, []) }], ErrorCode.BAD_MESSAGE],
      ['count differs from the manifest', [{ content: B, chunkCount: 6, bitfield: bits(6, []) }], ErrorCode.BAD_MESSAGE],
      ['bitfield too short', [{ content: B, chunkCount: 5, bitfield: new Uint8Array(0) }], ErrorCode.BAD_MESSAGE],
      ['spare bits set', [{ content: B, chunkCount: 5, bitfield: Uint8Array.of(0xff) }], ErrorCode.BAD_MESSAGE],
      ['too many contents', [1, 2, 3].map((n) => ({ content: testContent(10 + n), chunkCount: 1, bitfield: bits(1, []) })), ErrorCode.LIMIT_EXCEEDED],
      ['chunk budget', [{ content: testContent(30), chunkCount: 25, bitfield: bits(25, []) }], ErrorCode.LIMIT_EXCEEDED],
    ]
    for (const [name, holdings, code] of cases) {
      t.throws(() => index.register(P2, holdings), { code }, name)
      t.throws(() => index.register(P1, holdings), { code }, `${name} (resync)`)
    }
    index.register(P2, [{ content: A, chunkCount: 8, bitfield: bits(8, []) }])
    t.throws(() => index.register(P1, [{ content: A, chunkCount: 9, bitfield: bits(9, []) }]), { code: ErrorCode.BAD_MESSAGE }, 'count differs from the swarm')
    index.drop(P2.key)
    t.equal(JSON.stringify([index.stats(), index.availability(A), index.holdings(P1.key)]), before)
    t.doesNotThrow(() => index.register(P1, [{ content: testContent(30), chunkCount: 20, bitfield: bits(20, []) }]), 'its own swarms are freed first')
    t.end()
  })

  t.test('each peer has its own share of the chunk budget', (t) => {
    const index = create({ maxChunksPerPeer: 10 })
    const claim = (peer: typeof P1, counts: number[]) => index.register(peer, counts.map((n, i) => ({ content: testContent(40 + i + 10 * Number(peer === P2)), chunkCount: n, bitfield: bits(n, []) })))
    t.throws(() => claim(P1, [6, 5]), { code: ErrorCode.LIMIT_EXCEEDED }, 'over its share')
    t.doesNotThrow(() => claim(P1, [6, 4]), 'its whole share')
    t.doesNotThrow(() => claim(P2, [10]), 'another peer has a share of its own')
    t.same(index.stats(), { peersOnline: 2, contents: 3, chunkReplicas: 0 })
    t.end()
  })

  t.test('have and lost flip bits and keep counts', (t) => {
    const index = create({ replicationTarget: 2 })
    index.register(P1, [{ content: A, chunkCount: 4, bitfield: bits(4, []) }])
    index.register(P2, [{ content: A, chunkCount: 4, bitfield: bits(4, [0]) }])
    index.have(P1.key, A, [0, 1, 1, 2, 3])
    t.same(index.availability(A), [2, 1, 1, 1])
    t.same(index.contentStats(A), { peers: 2, seeders: 1, chunkCount: 4, availability: { min: 1, mean: 5 / 4 }, underReplicatedChunks: 3 })
    index.lost(P1.key, A, [3, 3])
    index.lost(P2.key, A, [2])
    t.same(index.availability(A), [2, 1, 1, 0])
    t.same(index.contentStats(A), { peers: 2, seeders: 0, chunkCount: 4, availability: { min: 0, mean: 1 }, underReplicatedChunks: 3 })
    t.equal(index.stats().chunkReplicas, 4)
    t.throws(() => index.have(P1.key, A, [1, 4]), { code: ErrorCode.OUT_OF_RANGE })
    t.throws(() => index.lost(P1.key, A, [0, 9]), { code: ErrorCode.OUT_OF_RANGE })
    t.same(index.availability(A), [2, 1, 1, 0], 'a rejected update changes nothing')
    t.throws(() => index.have(P5.key, A, [0]), { code: ErrorCode.NOT_REGISTERED })
    t.throws(() => index.setLoad(P5.key, 0.5), { code: ErrorCode.NOT_REGISTERED })
    t.throws(() => index.unregister(P5.key, A), { code: ErrorCode.NOT_REGISTERED })
    t.end()
  })

  t.test('have and lost apply only to contents the peer registered', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 5, bitfield: bits(5, [4]) }])
    index.register(P2, [])
    t.throws(() => index.have(P2.key, A, [0]), { code: ErrorCode.NOT_FOUND })
    t.throws(() => index.lost(P2.key, A, [4]), { code: ErrorCode.NOT_FOUND })
    t.same(index.availability(A), [0, 0, 0, 0, 1])
    t.same(index.holdings(P2.key), [])
    t.end()
  })

  t.test('unregister and drop remove entries and empty swarms', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 3, bitfield: bits(3, [0]) }, { content: B, chunkCount: 3, bitfield: bits(3, [1]) }])
    index.register(P2, [{ content: A, chunkCount: 3, bitfield: bits(3, [0, 2]) }])
    index.unregister(P1.key, B)
    index.unregister(P1.key, B)
    t.equal(index.availability(B), undefined)
    t.equal(index.drop(P2.key), true)
    t.equal(index.drop(P2.key), false)
    t.same(index.availability(A), [1, 0, 0])
    t.same(index.stats(), { peersOnline: 1, contents: 1, chunkReplicas: 1 })
    index.removeContent(A)
    index.removeContent(A)
    t.same(index.stats(), { peersOnline: 1, contents: 0, chunkReplicas: 0 })
    t.same(index.holdings(P1.key), [])
    t.end()
  })

  t.test('find returns holders with exactly held ∧ wanted, never the asker', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 12, bitfield: bits(12, range(0, 12)) }])
    index.register(P2, [{ content: A, chunkCount: 12, bitfield: bits(12, [0, 1, 2]) }])
    index.register(P3, [{ content: A, chunkCount: 12, bitfield: bits(12, [9]) }])
    index.register(P4, [{ content: A, chunkCount: 12, bitfield: bits(12, []) }])
    const wanted = bits(12, [1, 2, 9, 10])
    const answer = index.find(P1.key, A, wanted, 0, true)
    const byKey = new Map(answer.peers.map((p) => [Buffer.from(p.peerId).toString('hex'), p]))
    t.same([...byKey.keys()].sort(), [P2.key, P3.key].sort())
    t.same(setBits(12, byKey.get(P2.key)?.chunks as Uint8Array), [1, 2])
    t.same(setBits(12, byKey.get(P3.key)?.chunks as Uint8Array), [9])
    t.match(byKey.get(P2.key), { host: P2.host, port: P2.port, load: 0 })
    t.equal(answer.rarest[0], 10, 'the asker counts as a holder too')
    t.same(answer.rarest.slice(1).sort(), [1, 2, 9])
    t.same(index.find(undefined, testContent(99), new Uint8Array(5), 0, false), { peers: [], rarest: [] }, 'unknown content')
    t.throws(() => index.find(P1.key, A, new Uint8Array(1), 0, false), { code: ErrorCode.BAD_MESSAGE })
    t.same(index.find(P2.key, A, bits(12, []), 5, false), { peers: [], rarest: [] })
    t.end()
  })

  t.test('find prefers holders of the rarest chunks, then lower load, up to max', (t) => {
    const index = create()
    const holdings = [[0, 1], [0, 1], [0], [0], [0]]
    holdings.forEach((held, i) => index.register(testPeer(10 + i), [{ content: A, chunkCount: 2, bitfield: bits(2, held) }]))
    index.setLoad(testPeer(12).key, 0.9)
    index.setLoad(testPeer(13).key, 0.1)
    const answer = index.find(undefined, A, bits(2, [0, 1]), 3, false)
    t.same(answer.rarest, [1, 0])
    const keys = answer.peers.map((p) => Buffer.from(p.peerId).toString('hex'))
    t.same(keys.slice(0, 2).sort(), [testPeer(10).key, testPeer(11).key].sort(), 'holders of the rarest first')
    t.equal(keys[2], testPeer(14).key, 'then the idle one (load 0) before loads 0.1 and 0.9')
    t.equal(index.find(undefined, A, bits(2, [0]), 200, false).peers.length, 5)
    t.end()
  })

  t.test('holders of none of the 64 listed rarest chunks rank after those that hold one', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 70, bitfield: bits(70, range(0, 70)) }])
    index.register(P2, [{ content: A, chunkCount: 70, bitfield: bits(70, range(65, 70)) }])
    index.register(P3, [{ content: A, chunkCount: 70, bitfield: bits(70, range(66, 70)) }])
    index.register(P4, [{ content: A, chunkCount: 70, bitfield: bits(70, [69]) }])
    const wanted = bits(70, range(0, 69))
    const answer = index.find(undefined, A, wanted, 10, false)
    t.equal(rarestProblem(index.availability(A) as number[], setBits(70, wanted).reduce((w, c) => ((w[c] = true), w), new Array<boolean>(70).fill(false)), answer.rarest), undefined)
    t.ok(answer.rarest.every((c) => c < 65), 'the 64 rarest of the 65 chunks only P1 holds')
    const keys = answer.peers.map((p) => Buffer.from(p.peerId).toString('hex'))
    t.equal(keys[0], P1.key)
    t.same(keys.slice(1).sort(), [P2.key, P3.key].sort(), 'P4 holds nothing wanted')
    t.end()
  })

  t.test('the rarest list is right whether wanted is dense or sparse', (t) => {
    const index = create()
    const n = 600
    for (let i = 0; i < 12; i++) index.register(testPeer(300 + i), [{ content: A, chunkCount: n, bitfield: bits(n, range(0, n).filter((c) => c % (i + 2) === 0 || c > 500)) }])
    const availability = index.availability(A) as number[]
    for (const wantedSet of [range(0, n), range(0, n).filter((c) => c % 7 === 3), [599], [1, 2, 599], range(550, 600), []]) {
      const wanted = new Array<boolean>(n).fill(false)
      for (const c of wantedSet) wanted[c] = true
      const answer = index.find(undefined, A, bits(n, wantedSet), 1, false)
      t.equal(rarestProblem(availability, wanted, answer.rarest), undefined, `${wantedSet.length} wanted`)
    }
    t.end()
  })

  t.test('find spreads among equals', (t) => {
    const index = create()
    for (let i = 0; i < 6; i++) index.register(testPeer(20 + i), [{ content: A, chunkCount: 1, bitfield: bits(1, [0]) }])
    const seen = new Set<string>()
    for (let i = 0; i < 200 && seen.size < 6; i++) {
      for (const p of index.find(undefined, A, bits(1, [0]), 1, false).peers) seen.add(Buffer.from(p.peerId).toString('hex'))
    }
    t.equal(seen.size, 6, 'every equal holder is handed out sometimes')
    t.end()
  })

  t.test('find examines a bounded sample of a large swarm', (t) => {
    const index = create({ findScanLimit: 16 })
    for (let i = 0; i < 300; i++) index.register(testPeer(100 + i), [{ content: A, chunkCount: 64, bitfield: bits(64, i % 3 === 0 ? range(0, 64) : [i % 64]) }])
    const seen = new Set<string>()
    for (let round = 0; round < 20; round++) {
      const answer = index.find(undefined, A, bits(64, range(0, 64)), 10, false)
      t.equal(answer.peers.length, 10)
      for (const p of answer.peers) seen.add(Buffer.from(p.peerId).toString('hex'))
    }
    t.ok(seen.size > 40, `repeated finds reach much of the swarm (${seen.size} peers)`)
    t.end()
  })

  t.test('a resync from a new address is handed out at that address, its load kept', (t) => {
    const index = create()
    const content = [{ content: A, chunkCount: 8, bitfield: bits(8, [0, 1]) }]
    index.register(P1, content)
    index.setLoad(P1.key, 0.5)
    index.register({ ...P1, host: '192.0.2.7', port: 4242 }, [{ content: A, chunkCount: 8, bitfield: bits(8, [1, 2]) }])
    const [source] = index.find(undefined, A, bits(8, [0, 1, 2]), 10, true).peers
    t.match(source, { host: '192.0.2.7', port: 4242, load: 0.5 })
    t.same(setBits(8, source.chunks), [1, 2], 'holding what the resync says')
    t.same(index.availability(A), [0, 1, 1, 0, 0, 0, 0, 0])
    t.end()
  })

  t.test('a peer reported by enough distinct members is not handed out', (t) => {
    const index = create({ banThreshold: 2 })
    const content = [{ content: A, chunkCount: 1, bitfield: bits(1, [0]) }]
    for (const p of [P1, P2, P3]) index.register(p, content)
    index.register(P4, [])
    const handsOut = (key: string): boolean => index.find(undefined, A, bits(1, [0]), 10, false).peers.some((p) => Buffer.from(p.peerId).toString('hex') === key)
    index.report(P2.key, A, P1.key)
    index.report(P2.key, A, P1.key)
    index.report(P1.key, A, P1.key)
    index.report(P4.key, A, P1.key)
    t.ok(handsOut(P1.key), 'one distinct member, a self-report and a non-member are not enough')
    index.report(P3.key, A, P1.key)
    t.notOk(handsOut(P1.key))
    index.report(P2.key, A, P5.key)
    t.throws(() => index.report(P5.key, A, P1.key), { code: ErrorCode.NOT_REGISTERED })
    index.register(P1, content)
    t.notOk(handsOut(P1.key), 'the ban outlives a resync while the swarm lives')
    t.equal(index.contentStats(A)?.peers, 3, 'a banned peer still counts')
    t.end()
  })

  t.test('statistics hold in a swarm of many peers', (t) => {
    const index = create({ replicationTarget: 40 })
    for (let i = 0; i < 50; i++) index.register(testPeer(200 + i), [{ content: A, chunkCount: 3, bitfield: bits(3, i < 30 ? [0, 1, 2] : [0]) }])
    t.same(index.contentStats(A), { peers: 50, seeders: 30, chunkCount: 3, availability: { min: 30, mean: 110 / 3 }, underReplicatedChunks: 2 })
    for (let i = 0; i < 45; i++) index.drop(testPeer(200 + i).key)
    t.same(index.contentStats(A), { peers: 5, seeders: 0, chunkCount: 3, availability: { min: 0, mean: 5 / 3 }, underReplicatedChunks: 3 })
    t.end()
  })

  t.test('the most-shared contents come by peer count, most first', (t) => {
    const index = create({ replicationTarget: 2 })
    const C = testContent(3)
    t.same(index.mostShared(5), [], 'nothing yet')
    index.register(P1, [{ content: A, chunkCount: 4, bitfield: bits(4, [0, 1, 2, 3]) }, { content: B, chunkCount: 2, bitfield: bits(2, [0]) }])
    index.register(P2, [{ content: B, chunkCount: 2, bitfield: bits(2, [0, 1]) }, { content: C, chunkCount: 1, bitfield: bits(1, []) }])
    index.register(P3, [{ content: B, chunkCount: 2, bitfield: bits(2, []) }, { content: C, chunkCount: 1, bitfield: bits(1, [0]) }])
    t.same(index.mostShared(1), [{ content: B, peers: 3, seeders: 1, chunkCount: 2, availability: { min: 1, mean: 1.5 }, underReplicatedChunks: 1 }])
    t.same(index.mostShared(10).map((c) => [c.content, c.peers]), [[B, 3], [C, 2], [A, 1]])
    index.drop(P2.key)
    index.drop(P3.key)
    index.register(P4, [{ content: A, chunkCount: 4, bitfield: bits(4, [0]) }])
    t.same(index.mostShared(10).map((c) => [c.content, c.peers]), [[A, 2], [B, 1]], 'leaving reorders and empty swarms go')
    t.same(index.mostShared(0), [])
    t.end()
  })

  t.test('a content of zero chunks', (t) => {
    const index = create()
    index.register(P1, [{ content: A, chunkCount: 0, bitfield: new Uint8Array(0) }])
    t.same(index.contentStats(A), { peers: 1, seeders: 1, chunkCount: 0, availability: { min: 0, mean: 0 }, underReplicatedChunks: 0 })
    t.same(index.find(P2.key, A, new Uint8Array(0), 0, false), { peers: [], rarest: [] })
    t.end()
  })

  t.test('options are checked', (t) => {
    t.throws(() => create({ maxContentsPerPeer: 0 }), { code: ErrorCode.INVALID_ARGUMENT })
    t.throws(() => create({ defaultFindMax: 1.5 }), { code: ErrorCode.INVALID_ARGUMENT })
    t.end()
  })
}
