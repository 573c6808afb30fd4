import t from 'tap'
import { SpreadPolicy } from '../src/wire/spread-policy.js'

t.test('while saturated, a chunk is sent again only once every chunk has gone out as often', async (t) => {
  let now = 0
  const p = new SpreadPolicy(1000, () => now)
  t.notOk(p.refuse('c', 3, 0, 'a', true), 'first copy of chunk 0')
  t.ok(p.refuse('c', 3, 0, 'b', true), 'chunks 1 and 2 have gone out less: b fetches 0 elsewhere')
  t.notOk(p.refuse('c', 3, 0, 'b', false), 'not saturated: served')
  t.notOk(p.refuse('c', 3, 1, 'b', true))
  t.ok(p.refuse('c', 3, 1, 'c', true))
  t.notOk(p.refuse('c', 3, 2, 'c', true), 'the last first copy')
  t.notOk(p.refuse('c', 3, 1, 'c', true), 'a new round: every chunk has gone out once')
  t.ok(p.refuse('c', 3, 1, 'd', true), 'chunk 1 is ahead again')
  now = 999
  t.ok(p.refuse('c', 3, 1, 'd', true), 'still within patience')
  now = 1000
  t.notOk(p.refuse('c', 3, 1, 'd', true), 'served once patience runs out')
  t.notOk(p.refuse('other', 3, 1, 'd', true), 'contents are counted apart')
  p.forget('other')
  t.notOk(p.refuse('other', 3, 1, 'e', true), 'forgotten counts start over')
  now = 100_000
  for (let i = 0; i < 100; i++) p.refuse('big', 1000, 0, `p${i}`, true)
  t.ok(p.refuse('big', 1000, 0, 'x', true), 'old refusals are pruned, new ones kept')
})
