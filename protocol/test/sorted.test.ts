import t from 'tap'
import { lastAtOrBefore } from '../src/sorted.js'
import { seededRandom } from './helpers.js'

t.test('lastAtOrBefore finds what a linear scan finds, from any valid start', (t) => {
  const rand = seededRandom(5)
  const problems: string[] = []
  let checks = 0
  for (let round = 0; round < 300; round++) {
    // Ascending, with runs of equal values (empty buckets, empty files).
    const sorted = new Uint32Array(1 + Math.floor(rand() * 40))
    for (let i = 1; i < sorted.length; i++) sorted[i] = sorted[i - 1] + (rand() < 0.4 ? 0 : Math.floor(rand() * 5))
    for (let probe = 0; probe < 10; probe++) {
      const value = sorted[0] + Math.floor(rand() * (sorted[sorted.length - 1] - sorted[0] + 3))
      let expected = 0
      while (expected + 1 < sorted.length && sorted[expected + 1] <= value) expected++
      // Any start whose value is at most `value` and that is at or before the answer.
      const from = Math.floor(rand() * (expected + 1))
      for (const array of [sorted, Array.from(sorted)]) {
        checks++
        const actual = lastAtOrBefore(array, value, from)
        if (actual !== expected) problems.push(`${Array.from(sorted)} value ${value} from ${from}: ${actual}, expected ${expected}`)
      }
    }
  }
  t.same(problems.slice(0, 5), [], `${checks} searches, ${problems.length} wrong`)
  t.equal(lastAtOrBefore([0], 7), 0, 'one element')
  t.end()
})
