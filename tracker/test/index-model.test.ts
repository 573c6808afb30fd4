import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { ErrorCode, ShoalError } from '@shoal/protocol'
import type { Source } from '@shoal/protocol'
import type { ChunkIndex, ContentKey, FindResult, IndexHolding, PeerKey } from '../src/chunk-index.js'
import { MemoryChunkIndex } from '../src/memory-index.js'
import { bits, setBits, testContent, testPeer } from './lib/index-fixtures.js'
import { pick, randomBitfield, seeded } from './lib/random.js'
import { rarestProblem } from './lib/rarest-check.js'
import { ReferenceIndex, toBools } from './lib/reference-index.js'
import type { TapTest } from './lib/tap-test.js'

/** Contents with 1, 7, 16 and 70 chunks (70 > 64 exercises the rarest-list cut), and one known only by manifest. */
const CHUNK_COUNTS = [1, 7, 16, 70, 9]
const CONTENTS = CHUNK_COUNTS.map((_, i) => testContent(i + 1))
const MANIFEST_ONLY = CONTENTS[4]
const PEERS = Array.from({ length: 10 }, (_, i) => testPeer(i + 1))
const LOADS = [0, 0.25, 0.5, 1]
const LIMITS = {
  knownChunkCount: (c: ContentKey) => (c === MANIFEST_ONLY ? 9 : undefined),
  maxContentsPerPeer: 3,
  maxIndexedChunks: 95,
  maxChunksPerPeer: 80,
  replicationTarget: 2,
  banThreshold: 2,
}

interface World {
  rand: () => number
  index: ChunkIndex
  ref: ReferenceIndex
}

/**
 * Records disagreements instead of asserting each check (tap is slow per assertion and a
 * run makes tens of thousands); a failing check reports its details through `t`.
 */
class Checker {
  failures = 0

  constructor(private readonly t: TapTest, public label = '') {}

  same(actual: unknown, expected: unknown, what: string): void {
    if (!isDeepStrictEqual(actual, expected)) this.fail(what, () => this.t.same(actual, expected, `${this.label}: ${what}`))
  }

  ok(value: boolean, what: string): void {
    if (!value) this.fail(what, () => this.t.fail(`${this.label}: ${what}`))
  }

  private fail(_what: string, report: () => void): void {
    this.failures++
    if (this.failures <= 5) report()
  }
}

/** Runs `op` on both; they must agree on success or on the error code. */
function both<R>(t: Checker, what: string, op: (index: ChunkIndex | ReferenceIndex) => R, w: World): R | undefined {
  const outcome = (target: ChunkIndex | ReferenceIndex): { value?: R; code?: string } => {
    try {
      return { value: op(target) }
    } catch (err) {
      if (!(err instanceof ShoalError)) throw err
      return { code: err.code }
    }
  }
  const real = outcome(w.index)
  const model = outcome(w.ref)
  t.same(real.code, model.code, `${what}: error code of index vs model`)
  return real.value
}

function randomChunks(rand: () => number, chunkCount: number): number[] {
  const n = Math.floor(rand() * 5)
  // Now and then one index past the end, to exercise atomic rejection.
  return Array.from({ length: n }, () => Math.floor(rand() * (chunkCount + (rand() < 0.05 ? 3 : 0))))
}

function randomHoldings(rand: () => number): IndexHolding[] {
  const n = Math.floor(rand() * 4.3)
  return Array.from({ length: n }, () => {
    const i = Math.floor(rand() * CONTENTS.length)
    // Sometimes a wrong chunk count, to exercise the agreement rule.
    const chunkCount = CHUNK_COUNTS[i] + (rand() < 0.05 ? 1 : 0)
    return { content: CONTENTS[i], chunkCount, bitfield: randomBitfield(rand, chunkCount, pick(rand, [0, 0.2, 0.7, 1])) }
  })
}

/** One random operation on both; finds ask for one of `maxes` sources. */
function step(t: Checker, w: World, peers = PEERS, maxes = [0, 1, 2, 3, 25]): void {
  const { rand } = w
  const peer = pick(rand, peers)
  // Mostly a content this peer registered, so updates land; sometimes any.
  const own = [...(w.ref.peers.get(peer.key)?.contents.keys() ?? [])]
  const content = own.length > 0 && rand() < 0.85 ? pick(rand, own) : pick(rand, CONTENTS)
  const ci = CONTENTS.indexOf(content)
  const r = rand()
  if (r < 0.15) {
    const holdings = randomHoldings(rand)
    both(t, 'register', (x) => x.register(peer, holdings), w)
  } else if (r < 0.35) {
    const chunks = randomChunks(rand, CHUNK_COUNTS[ci])
    both(t, `have ${chunks}`, (x) => x.have(peer.key, content, chunks), w)
  } else if (r < 0.45) {
    const chunks = randomChunks(rand, CHUNK_COUNTS[ci])
    both(t, `lost ${chunks}`, (x) => x.lost(peer.key, content, chunks), w)
  } else if (r < 0.5) {
    both(t, 'unregister', (x) => x.unregister(peer.key, content), w)
  } else if (r < 0.57) {
    both(t, 'drop', (x) => x.drop(peer.key), w)
  } else if (r < 0.62) {
    const load = pick(rand, LOADS)
    both(t, 'setLoad', (x) => x.setLoad(peer.key, load), w)
  } else if (r < 0.69) {
    // Mostly between members of the swarm, so bans actually build up.
    const members = w.ref.holders(content)
    const reporter = members.length > 0 && rand() < 0.8 ? pick(rand, members) : peer.key
    const target = members.length > 0 && rand() < 0.8 ? pick(rand, members.slice(0, 2)) : pick(rand, peers).key
    both(t, 'report', (x) => x.report(reporter, content, target), w)
  } else if (r < 0.7) {
    both(t, 'removeContent', (x) => x.removeContent(content), w)
  } else {
    find(t, w, rand() < 0.2 ? undefined : peer.key, ci, maxes)
  }
}

function find(t: Checker, w: World, asker: PeerKey | undefined, ci: number, maxes: number[]): void {
  const content = CONTENTS[ci]
  const chunkCount = w.ref.chunkCountOf(content) ?? CHUNK_COUNTS[ci]
  const wanted = w.rand() < 0.03 ? new Uint8Array(((chunkCount + 7) >>> 3) + 1) : randomBitfield(w.rand, chunkCount, pick(w.rand, [0.1, 0.5, 1]))
  const max = pick(w.rand, maxes)
  const chunkLists = w.rand() < 0.7
  let answer: FindResult
  try {
    answer = w.index.find(asker, content, wanted, max, chunkLists)
  } catch (err) {
    t.same((err as ShoalError).code, ErrorCode.BAD_MESSAGE, 'find error code')
    t.ok(w.ref.chunkCountOf(content) !== undefined && wanted.length !== (chunkCount + 7) >>> 3, 'only a wrong-length wanted is refused')
    return
  }
  checkFind(t, w.ref, asker, content, toBools(chunkCount, wanted), max === 0 ? 20 : max, chunkLists, answer)
}

/** Every property a find answer has, against the model. */
function checkFind(t: Checker, ref: ReferenceIndex, asker: PeerKey | undefined, content: ContentKey, wanted: boolean[], max: number, chunkLists: boolean, answer: { peers: Source[]; rarest: number[] }): void {
  const rarest = answer.rarest
  const avail = ref.availability(content) ?? []
  t.same(rarestProblem(avail, wanted, rarest), undefined, 'rarest list')
  const rankOf = (held: boolean[]): number => {
    const k = rarest.findIndex((c) => held[c])
    if (k >= 0) return avail[rarest[k]]
    return held.some((h, i) => h && wanted[i]) ? avail[rarest[rarest.length - 1]] + 1 : Infinity
  }
  const eligible = ref.holders(content)
    .filter((key) => key !== asker && !ref.isBanned(content, key))
    .map((key) => {
      const p = ref.peers.get(key)
      const held = p?.contents.get(content) as boolean[]
      return { key, held, load: p?.load as number, rank: rankOf(held) }
    })
    .filter((e) => e.rank !== Infinity)
  const byKey = new Map(eligible.map((e) => [e.key, e]))
  t.same(answer.peers.length, Math.min(max, eligible.length), 'all holders up to max')
  const chosen = answer.peers.flatMap((p) => {
    const e = byKey.get(Buffer.from(p.peerId).toString('hex'))
    if (e === undefined) {
      t.ok(false, 'a returned peer is an eligible holder')
      return []
    }
    if (chunkLists) t.same(setBits(wanted.length, p.chunks), e.held.flatMap((h, i) => (h && wanted[i] ? [i] : [])), 'chunks are held ∧ wanted')
    else t.same(p.chunks.length, 0, 'no chunk lists unless asked')
    t.same([p.load, p.port], [e.load, ref.peers.get(e.key)?.peer.port], 'load and port')
    return [e]
  })
  t.same(new Set(chosen.map((e) => e.key)).size, chosen.length, 'no peer twice')
  const keyOf = (e: { rank: number; load: number }): number => e.rank * 10 + e.load
  for (let i = 1; i < chosen.length; i++) t.ok(keyOf(chosen[i - 1]) <= keyOf(chosen[i]), 'best first')
  const worstChosen = Math.max(...chosen.map(keyOf))
  const left = eligible.filter((e) => !chosen.includes(e))
  t.ok(left.every((e) => keyOf(e) >= worstChosen), 'rarer-chunk holders and idler peers are preferred')
}

function compare(t: Checker, w: World, peers = PEERS): void {
  t.same(w.index.stats(), w.ref.stats(), 'stats')
  for (const content of CONTENTS) {
    t.same(w.index.availability(content), w.ref.availability(content), 'availability')
    t.same(w.index.contentStats(content), w.ref.contentStats(content), 'content stats')
    t.same(w.index.members(content).sort(), w.ref.holders(content).sort(), 'members')
  }
  const top = w.index.mostShared(3)
  const everything = w.ref.mostShared()
  t.same(top.map((c) => c.peers), everything.slice(0, 3).map((c) => c.peers), 'most shared: the largest peer counts, in order')
  for (const c of top) t.same(c, everything.find((e) => e.content === c.content), 'most shared: their statistics')
  for (const p of peers) {
    const real = w.index.holdings(p.key)?.map((h) => [h.content, setBits(h.chunkCount, h.bitfield)])
    const model = w.ref.peers.get(p.key)
    const expected = model && [...model.contents].map(([c, held]) => [c, held.flatMap((b, i) => (b ? [i] : []))])
    t.same(real?.sort(), expected?.sort(), 'holdings')
  }
}

t.test('random operation sequences agree with the naive model', (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = seeded(seed)
    const w: World = { rand, index: new MemoryChunkIndex({ ...LIMITS, findScanLimit: 1000, random: seeded(seed + 1000) }), ref: new ReferenceIndex(LIMITS) }
    const check = new Checker(t)
    for (let i = 0; i < 400 && check.failures === 0; i++) {
      check.label = `seed ${seed} step ${i}`
      step(check, w)
      compare(check, w)
    }
    t.equal(check.failures, 0, `seed ${seed}: 400 steps agree`)
  }
  t.end()
})

t.test('swarms wider than a bitfield block (64 members) agree with the model', (t) => {
  const peers = Array.from({ length: 200 }, (_, i) => testPeer(1000 + i))
  const limits = { ...LIMITS, maxIndexedChunks: 10_000, maxChunksPerPeer: 1000 }
  for (let seed = 1; seed <= 3; seed++) {
    const rand = seeded(seed + 500)
    const w: World = { rand, index: new MemoryChunkIndex({ ...limits, findScanLimit: 1000, random: seeded(seed + 600) }), ref: new ReferenceIndex(limits) }
    const check = new Checker(t)
    // Everyone in the 70-chunk content, most in one more: the widest swarms span several blocks.
    for (const p of peers) {
      const holdings = [3, ...(rand() < 0.7 ? [Math.floor(rand() * 3)] : [])].map((i) => ({
        content: CONTENTS[i], chunkCount: CHUNK_COUNTS[i], bitfield: randomBitfield(rand, CHUNK_COUNTS[i], pick(rand, [0, 0.1, 0.5, 1])),
      }))
      both(check, 'register', (x) => x.register(p, holdings), w)
    }
    const widest = Math.max(...CONTENTS.map((c) => w.ref.holders(c).length))
    // 200 sources at most: finds then look at every member, so the answer is exact.
    for (let i = 0; i < 600 && check.failures === 0; i++) {
      check.label = `seed ${seed} step ${i}`
      step(check, w, peers, [200])
      if (i % 20 === 0) compare(check, w, peers)
    }
    compare(check, w, peers)
    t.equal(check.failures, 0, `seed ${seed}: swarms of up to ${widest} members, 600 steps agree`)
  }
  t.end()
})

t.test('in a swarm larger than the scan limit answers stay sound', (t) => {
  const rand = seeded(7)
  const index = new MemoryChunkIndex({ findScanLimit: 8, random: seeded(8) })
  const content = CONTENTS[2]
  const held = new Map<PeerKey, boolean[]>()
  for (let i = 0; i < 120; i++) {
    const p = testPeer(500 + i)
    const bitfield = randomBitfield(rand, 16, pick(rand, [0, 0.1, 1]))
    index.register(p, [{ content, chunkCount: 16, bitfield }])
    held.set(p.key, toBools(16, bitfield))
  }
  for (let round = 0; round < 50; round++) {
    const wanted = randomBitfield(rand, 16, 0.3)
    const wantedBools = toBools(16, wanted)
    const asker = testPeer(500 + Math.floor(rand() * 120)).key
    const answer = index.find(asker, content, wanted, 10, true)
    t.ok(answer.peers.length <= 10)
    for (const p of answer.peers) {
      const key = Buffer.from(p.peerId).toString('hex')
      t.not(key, asker)
      const expected = (held.get(key) as boolean[]).flatMap((h, i) => (h && wantedBools[i] ? [i] : []))
      t.ok(expected.length > 0)
      t.same(setBits(16, p.chunks), expected)
    }
  }
  t.same(index.find(undefined, content, bits(16, []), 10, true).peers, [])
  t.end()
})

t.test('chunk lists of a large answer (ten sources of 262,144 chunks) are exactly held ∧ wanted', (t) => {
  const rand = seeded(41)
  const index = new MemoryChunkIndex({ random: seeded(42) })
  const big = testContent(70)
  const chunkCount = 262_144
  const held = new Map<PeerKey, Uint8Array>()
  for (let i = 0; i < 10; i++) {
    const p = testPeer(3000 + i)
    const bitfield = randomBitfield(rand, chunkCount, 0.5)
    index.register(p, [{ content: big, chunkCount, bitfield }])
    held.set(p.key, bitfield)
  }
  const wanted = randomBitfield(rand, chunkCount, 0.5)
  const answer = index.find(undefined, big, wanted, 10, true)
  t.equal(answer.peers.length, 10)
  let exact = 0
  for (const p of answer.peers) {
    const bits = held.get(Buffer.from(p.peerId).toString('hex')) as Uint8Array
    if (p.chunks.length === bits.length && p.chunks.every((b, i) => b === (bits[i] & wanted[i]))) exact++
  }
  t.equal(exact, 10, 'every list is held ∧ wanted')
  t.end()
})
