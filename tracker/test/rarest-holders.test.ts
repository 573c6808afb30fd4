import t from 'tap'
import { ChunkAvailability } from '../src/chunk-availability.js'
import { rarestChunks } from '../src/find-sources.js'
import { pick, randomBitfield, seeded } from './lib/random.js'

/**
 * The holder counts a find ranks members by come with the rarest list, read off the
 * availability order's bucket edges (or the heap's keys), never from the per-chunk counts:
 * they must equal those counts exactly, whichever way the list was built.
 */
t.test('the rarest list carries each chunk\'s exact holder count', (t) => {
  const rand = seeded(41)
  let checked = 0
  let walks = 0
  for (let round = 0; round < 200; round++) {
    const chunkCount = pick(rand, [1, 8, 70, 300, 4096])
    const chunks = new ChunkAvailability(chunkCount)
    const counts = new Uint32Array(chunkCount)
    const peers = pick(rand, [1, 3, 12, 40])
    chunks.reserve(peers)
    for (let p = 0; p < peers; p++) {
      const density = rand()
      for (let c = 0; c < chunkCount; c++) {
        if (rand() < density) {
          chunks.increment(c)
          counts[c]++
        }
      }
    }
    // Some holders leave again, so buckets shrink as well as grow.
    for (let c = 0; c < chunkCount; c++) {
      if (counts[c] > 0 && rand() < 0.2) {
        chunks.decrement(c)
        counts[c]--
      }
    }
    const wanted = randomBitfield(rand, chunkCount, rand())
    const limit = pick(rand, [1, 16, 64])
    const viaWalk = new Uint32Array(limit)
    const walked = chunks.rarestByOrder(wanted, limit, pick(rand, [8, chunkCount]), viaWalk)
    const viaHeap = new Uint32Array(limit)
    const heaped = rarestChunks(counts, wanted, limit, viaHeap)
    const wrong = (list: number[], holders: Uint32Array) => list.filter((c, k) => holders[k] !== counts[c]).length
    t.equal(wrong(heaped, viaHeap), 0, `heap, round ${round}`)
    if (walked !== undefined) {
      walks++
      t.equal(wrong(walked, viaWalk), 0, `walk, round ${round}`)
      t.same(walked.map((c) => counts[c]), heaped.map((c) => counts[c]), `walk and heap agree on the counts, round ${round}`)
      checked += walked.length
    }
    checked += heaped.length
  }
  t.ok(walks > 50, `the walk answered in ${walks} of 200 rounds`)
  t.ok(checked > 2000, `${checked} listed chunks checked`)
  t.end()
})
