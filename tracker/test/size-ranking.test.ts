import t from 'tap'
import { SizeRanking } from '../src/size-ranking.js'
import { seeded } from './lib/random.js'

class Item {
  size = 0
  rankSlot = 0
  constructor(readonly name: number) {}
}

t.test('a size ranking agrees with sorting, through random growth, shrinking, arrivals and departures', (t) => {
  const rand = seeded(11)
  const ranking = new SizeRanking<Item>()
  const live: Item[] = []
  let failures = 0
  for (let step = 0; step < 5000 && failures === 0; step++) {
    const r = rand()
    const item = live[Math.floor(rand() * live.length)]
    if (r < 0.15 || item === undefined) {
      const fresh = new Item(step)
      live.push(fresh)
      ranking.add(fresh)
    } else if (r < 0.25 && item.size === 0) {
      live.splice(live.indexOf(item), 1)
      ranking.remove(item)
    } else if (r < 0.65) {
      item.size++
      ranking.grew(item)
    } else if (item.size > 0) {
      item.size--
      ranking.shrank(item)
    }
    const limit = Math.floor(rand() * 6)
    const top = ranking.top(limit).map((i) => i.size)
    const expected = live.map((i) => i.size).sort((a, b) => b - a).slice(0, limit)
    if (JSON.stringify(top) !== JSON.stringify(expected)) {
      failures++
      t.same(top, expected, `step ${step}`)
    }
  }
  t.equal(failures, 0, '5,000 steps agree')
  t.same(ranking.top(live.length + 5).length, live.length, 'top never invents items')
  t.end()
})
