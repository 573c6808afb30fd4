import t from 'tap'
import { Bitfield } from '@shoal/protocol'
import { Scheduler } from '../src/download/scheduler.js'
import type { ChunkRequest, SchedulerInit } from '../src/download/scheduler.js'
import { seeded } from './helpers.js'

function scheduler(chunkCount: number, over: Partial<SchedulerInit> = {}): Scheduler {
  return new Scheduler({
    chunkCount, perPeerInflight: 4, requestTimeoutMs: 1000, banAfter: 2, endgameDuplicates: 1, resortMs: 0,
    random: seeded(7), ...over,
  })
}

const all = (n: number) => Bitfield.full(n)
const some = (n: number, chunks: number[]) => Bitfield.fromIndices(n, chunks)
const chunksOf = (reqs: ChunkRequest[], peer?: string) => reqs.filter((r) => peer === undefined || r.peer === peer).map((r) => r.chunk)

t.test('options are validated', async (t) => {
  t.throws(() => scheduler(4, { perPeerInflight: 0 }), { code: 'ERR_INVALID_ARGUMENT' })
  t.throws(() => scheduler(4, { banAfter: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' })
})

t.test('each peer gets the rarest chunks it holds', async (t) => {
  const s = scheduler(8, { perPeerInflight: 2 })
  s.addPeer('seed', all(8), 0)
  s.addPeer('half', some(8, [0, 1, 2, 3]), 0)
  s.addPeer('other', some(8, [0, 1, 2, 3]), 0)
  const reqs = s.plan(0)
  // Chunks 4..7 are held by the seed alone, so the seed is asked for those.
  for (const c of chunksOf(reqs, 'seed')) t.ok(c >= 4, `seed asked for ${c}`)
  for (const c of chunksOf(reqs, 'half')) t.ok(c < 4)
  t.equal(reqs.length, 6)
  t.equal(new Set(chunksOf(reqs)).size, 6, 'no chunk is asked of two peers outside endgame')
})

t.test('the tracker hint breaks availability ties by class, never by index', async (t) => {
  const s = scheduler(16, { perPeerInflight: 3 })
  // Two classes: {9, 12} is rarer than {3, 5}.
  s.hintRarest([9, 12, 3, 5])
  s.addPeer('a', all(16), 0)
  const first = chunksOf(s.plan(0))
  t.same(first.slice(0, 2).sort((x, y) => x - y), [9, 12])
  t.ok([3, 5].includes(first[2]))
  const orders = new Set<string>()
  for (let seed = 1; seed <= 8; seed++) {
    const one = scheduler(100, { perPeerInflight: 5, random: seeded(seed) })
    // A full list that is one run says nothing: every listed chunk may tie with unlisted ones.
    one.hintRarest([...Array(64).keys()])
    one.addPeer('a', all(100), 0)
    orders.add(chunksOf(one.plan(0)).join())
  }
  t.equal(orders.size, 8, 'downloaders given the same list pick different chunks')
})

t.test('ties are broken by a per-download random order', async (t) => {
  const order = (seed: number) => {
    const s = scheduler(64, { perPeerInflight: 64, random: seeded(seed) })
    s.addPeer('a', all(64), 0)
    return chunksOf(s.plan(0))
  }
  t.same(order(1), order(1), 'same seed, same order')
  t.not(order(1).join(), order(2).join(), 'another seed, another order')
  t.same([...order(3)].sort((a, b) => a - b), [...Array(64).keys()], 'every chunk exactly once')
})

t.test('per-peer and global bounds hold', async (t) => {
  const s = scheduler(100, { perPeerInflight: 3 })
  for (const p of ['a', 'b', 'c']) s.addPeer(p, all(100), 0)
  t.equal(s.plan(0, 5).length, 5, 'budget caps a plan')
  const more = s.plan(0)
  t.equal(more.length, 4, 'then the per-peer bound does')
  t.equal(s.inflightCount, 9)
  t.same(s.plan(0), [])
  t.same(s.plan(0, 0), [])
})

t.test('peers with fewer requests are served first', async (t) => {
  const s = scheduler(10, { perPeerInflight: 2 })
  s.addPeer('a', all(10), 0)
  t.equal(s.plan(0, 1).length, 1)
  s.addPeer('b', all(10), 0)
  t.same(s.plan(0, 1).map((r) => r.peer), ['b'])
})

t.test('a silent peer times out; its chunks go elsewhere; it gets one slot until it delivers', async (t) => {
  const s = scheduler(4, { perPeerInflight: 2 })
  s.addPeer('slow', all(4), 0)
  const first = s.plan(0)
  t.equal(first.length, 2)
  s.heard('slow', 900)
  t.same(s.expire(1000), [], 'bytes arriving keep requests alive')
  t.same(s.expire(1899), [])
  const expired = s.expire(1900)
  t.same(expired.map((r) => r.chunk).sort(), chunksOf(first).sort())
  s.addPeer('fast', all(4), 1900)
  const next = s.plan(1900)
  t.equal(chunksOf(next, 'slow').length, 1, 'the slow peer is limited to one request')
  t.equal(chunksOf(next, 'fast').length, 2)
  const slowChunk = chunksOf(next, 'slow')[0]
  t.ok(s.received('slow', slowChunk, 2000))
  s.completed(slowChunk)
  const after = chunksOf(s.plan(2000), 'slow')
  t.equal(after.length, 2, 'delivering restores its slots: the last free chunk plus an endgame duplicate')
  t.ok(after.some((c) => !chunksOf(next).includes(c)))
})

t.test('endgame asks a second peer and cancels the duplicate on completion', async (t) => {
  const s = scheduler(2, { perPeerInflight: 4 })
  s.addPeer('a', all(2), 0)
  const first = s.plan(0)
  t.equal(first.length, 2)
  s.addPeer('b', all(2), 0)
  const dup = s.plan(0)
  t.same(chunksOf(dup, 'b').sort(), [0, 1], 'b duplicates both in-flight chunks')
  t.same(s.plan(0), [], 'at most one extra peer per chunk')
  t.ok(s.received('b', 0, 1))
  t.notOk(s.received('a', 0, 1), 'a second copy of a chunk being verified is dropped')
  t.same(s.completed(0), [], 'a already delivered its copy; nothing to cancel')
  t.same(s.completed(1), [{ peer: 'a', chunk: 1 }, { peer: 'b', chunk: 1 }])
  t.ok(s.complete)
  t.same(s.plan(0), [])
})

t.test('no endgame mid-way through a swarm: chunks nobody connected has yet keep duplicates off', async (t) => {
  const s = scheduler(4, { perPeerInflight: 4 })
  s.addPeer('seed', some(4, [0, 1]), 0)
  t.same(chunksOf(s.plan(0)).sort(), [0, 1])
  s.addPeer('b', some(4, [0, 1]), 0)
  t.same(s.plan(0), [], 'chunks 2 and 3 are still to come: no duplicate of 0 or 1')
  s.peerHas('b', [2, 3])
  t.same(chunksOf(s.plan(0), 'b').sort(), [0, 1, 2, 3], 'once b has the last two, every missing chunk is requested and endgame duplicates 0 and 1 on b')
})

t.test('bad data counts against the peer and bans it at the limit', async (t) => {
  const s = scheduler(6, { perPeerInflight: 3, banAfter: 2 })
  s.addPeer('liar', all(6), 0)
  s.addPeer('honest', all(6), 0)
  const reqs = s.plan(0)
  const [c1, c2] = chunksOf(reqs, 'liar')
  t.ok(s.received('liar', c1, 1))
  t.notOk(s.failed('liar', c1, 'bad-data'))
  t.ok(s.wants(c1), 'the chunk is wanted again')
  t.ok(s.received('liar', c2, 2))
  t.ok(s.failed('liar', c2, 'bad-data'), 'second strike bans')
  t.ok(s.isBanned('liar'))
  t.notOk(s.hasPeer('liar'))
  t.notOk(s.addPeer('liar', all(6), 3), 'a banned peer is not taken back')
  t.ok(s.failed('liar', c2, 'bad-data'), 'reports on a banned peer stay banned')
  const next = s.plan(3)
  t.ok(next.every((r) => r.peer === 'honest'))
})

t.test('a chunk a peer turns out not to hold is not asked of it again', async (t) => {
  const s = scheduler(1, { perPeerInflight: 1 })
  s.addPeer('a', all(1), 0)
  t.same(chunksOf(s.plan(0)), [0])
  t.notOk(s.failed('a', 0, 'not-held'))
  t.same(s.plan(0), [])
  s.peerHas('a', [0])
  t.same(chunksOf(s.plan(0)), [0], 'until it announces it')
  t.notOk(s.failed('a', 0, 'lost'))
  t.same(chunksOf(s.plan(0)), [0], 'a lost request keeps the peer as a holder')
  t.notOk(s.failed('nobody', 0, 'lost'))
})

t.test('a busy peer is left alone until it said to retry', async (t) => {
  const s = scheduler(4, { perPeerInflight: 2 })
  s.addPeer('a', all(4), 0)
  const [r] = s.plan(0, 1)
  s.busy('a', r.chunk, 0, 500)
  t.same(s.plan(499), [])
  t.equal(s.plan(500).length, 2)
  t.doesNotThrow(() => s.busy('unknown', 0, 0, 10), 'a peer it does not know is ignored')
})

t.test('removing a peer returns its chunks to the pool', async (t) => {
  const s = scheduler(3, { perPeerInflight: 3 })
  s.addPeer('a', all(3), 0)
  const reqs = s.plan(0)
  t.same(s.removePeer('a').sort(), chunksOf(reqs).sort())
  t.same(s.removePeer('a'), [])
  s.addPeer('b', some(3, [1]), 0)
  t.same(chunksOf(s.plan(0)), [1])
  t.notOk(s.addPeer('b', all(3), 0), 'a peer is added once')
  t.notOk(s.addPeer('c', all(4), 0), 'a bitfield of the wrong size is refused')
})

t.test('late and unwanted pieces', async (t) => {
  const s = scheduler(2, { have: some(2, [0]) })
  t.equal(s.missingCount, 1)
  t.notOk(s.wants(0))
  s.addPeer('a', all(2), 0)
  t.same(chunksOf(s.plan(0)), [1])
  t.equal(s.expire(5000).length, 1)
  t.ok(s.received('a', 1, 5001), 'a piece arriving after its timeout is still used')
  t.notOk(s.received('a', 0, 5001), 'a held chunk is not')
  s.peerHas('ghost', [1])
  s.heard('ghost', 1)
})

t.test('randomized swarm: invariants hold and every chunk completes', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = seeded(seed)
    const n = 1 + Math.floor(rand() * 60)
    const s = scheduler(n, { perPeerInflight: 1 + Math.floor(rand() * 4), random: rand, resortMs: 5 })
    const holds = new Map<string, Bitfield>()
    for (let p = 0; p < 1 + Math.floor(rand() * 5); p++) {
      const bf = Bitfield.fromIndices(n, [...Array(n).keys()].filter(() => rand() < 0.6))
      holds.set(`p${p}`, bf)
      s.addPeer(`p${p}`, bf, 0)
    }
    holds.set('full', Bitfield.full(n))
    s.addPeer('full', Bitfield.full(n), 0)
    let now = 0
    for (let round = 0; round < 10_000 && !s.complete; round++) {
      now += 10
      for (const r of s.plan(now, 8)) {
        if (!holds.get(r.peer)!.has(r.chunk)) t.fail(`asked ${r.peer} for ${r.chunk} it lacks`)
        const roll = rand()
        if (roll < 0.1) s.failed(r.peer, r.chunk, 'lost')
        else if (s.received(r.peer, r.chunk, now)) s.completed(r.chunk)
      }
      t.ok(s.inflightCount <= 8 * 6, 'bounded in flight')
    }
    t.ok(s.complete, `seed ${seed} completes`)
  }
})

t.test('a chunk a peer defers is fetched elsewhere until the deferral ends', async (t) => {
  const s = scheduler(2, { perPeerInflight: 1 })
  s.addPeer('seed', all(2), 0)
  const [first] = s.plan(0)
  s.defer('seed', first.chunk, 1000)
  const next = s.plan(0)
  t.same(chunksOf(next), [1 - first.chunk], 'the seed is asked for the other chunk')
  s.received('seed', 1 - first.chunk, 10)
  s.completed(1 - first.chunk)
  t.same(s.plan(500), [], 'not asked for the deferred chunk before its time')
  t.same(chunksOf(s.plan(1000)), [first.chunk])
  s.defer('ghost', 0, 5)
})
