import t from 'tap'
import { KeepSmallest } from '../src/keep-smallest.js'
import { seeded } from './lib/random.js'

t.test('keeps the smallest keys, drains them smallest first through the map, and is reusable at any capacity', async (t) => {
  const rand = seeded(7)
  const kept = new KeepSmallest<{ key: number }>(20)
  for (let round = 0; round < 200; round++) {
    const capacity = Math.floor(rand() * 21)
    const offers = Array.from({ length: Math.floor(rand() * 60) }, () => ({ key: Math.floor(rand() * 1000) }))
    kept.clear(capacity)
    for (const offer of offers) kept.offer(offer.key, offer)
    const expected = offers.map((o) => o.key).sort((a, b) => a - b).slice(0, capacity)
    t.same(kept.drain((o) => o.key), expected, `round ${round}: ${offers.length} offers, capacity ${capacity}`)
    t.same(kept.drain((o) => o.key), [], `round ${round}: drained empty`)
  }
})
