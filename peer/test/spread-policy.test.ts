import t from 'tap'
import { SpreadPolicy } from '../src/wire/spread-policy.js'

t.test('a chunk just handed to one peer is refused to another, once, and only when saturated', async (t) => {
  let now = 0
  const p = new SpreadPolicy(1000, () => now)
  t.notOk(p.refuse('c', 1, 'a', true), 'first hand-out')
  t.notOk(p.refuse('c', 1, 'b', false), 'not saturated: served')
  t.ok(p.refuse('c', 1, 'a', true), 'b got it last, so a is sent to b')
  t.notOk(p.refuse('c', 1, 'a', true), 'asked again: served')
  t.notOk(p.refuse('c', 1, 'a', true), 'the same peer again: served')
  t.notOk(p.refuse('other', 1, 'b', true), 'contents are separate')
  now = 900
  p.sent('c', 1, 'b')
  now = 1500
  t.ok(p.refuse('c', 1, 'c', true), 'the window runs from when it was sent')
  now = 2000
  t.notOk(p.refuse('c', 1, 'd', true), 'after the window: served')
  now = 100_000
  for (let i = 0; i < 200; i++) p.refuse('c', i, `p${i}`, true)
  t.ok(p.refuse('c', 5, 'x', true), 'recent hand-outs survive pruning')
})
