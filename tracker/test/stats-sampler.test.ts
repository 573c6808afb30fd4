import t from 'tap'
import { Ring } from '../src/ring.js'
import { StatsSampler } from '../src/stats-sampler.js'
import { TokenBucket } from '../src/token-bucket.js'

t.test('a ring keeps the newest entries, oldest first', (t) => {
  const ring = new Ring<number>(3)
  t.same(ring.toArray(), [])
  for (let i = 1; i <= 5; i++) ring.push(i)
  t.same(ring.toArray(), [3, 4, 5])
  t.equal(ring.toArray().length, 3)
  t.same(ring.newest(2), [4, 5])
  t.same(ring.newest(9), [3, 4, 5])
  t.end()
})

t.test('the sampler gives one-minute rates, 10 minutes by 10 s and an hour by the minute', (t) => {
  let total = 1000
  const figures = { peersOnline: 1, contents: 2, chunkReplicas: 3, connections: 4 }
  const sampler = new StatsSampler(() => total, () => figures, 1000)
  t.equal(sampler.messagesPerSecond(), 0)
  t.same([sampler.recent(), sampler.history()], [[], []])
  for (let s = 0; s < 30; s++) {
    total += 100
    sampler.tick()
  }
  t.equal(sampler.messagesPerSecond(), 100, 'since start when younger than a minute')
  t.equal(sampler.recent().length, 3, 'a recent sample every 10 ticks')
  t.match(sampler.recent()[2], { ...figures, messagesPerSecond: 100, time: Number })
  for (let s = 0; s < 60; s++) {
    total += 10
    sampler.tick()
  }
  t.equal(sampler.messagesPerSecond(), 10, 'only the last minute counts')
  t.equal(sampler.messagesPerSecond(5), 10)
  t.equal(sampler.history().length, 1)
  t.match(sampler.history()[0], { ...figures, messagesPerSecond: (30 * 100 + 30 * 10) / 60 }, 'sampled at tick 60, over its minute')
  t.match(sampler.recent()[5], { messagesPerSecond: 10 }, 'a recent sample is over its own 10 ticks')
  for (let s = 0; s < 60 * 70; s++) sampler.tick()
  t.equal(sampler.history().length, 60, 'an hour at most')
  t.equal(sampler.recent().length, 60, 'ten minutes at most')
  t.equal(sampler.recent()[59].messagesPerSecond, 0)
  t.end()
})

t.test('a token bucket allows the burst, then the rate', (t) => {
  let now = 0
  const bucket = new TokenBucket(10, 5, () => now)
  let taken = 0
  while (taken < 100 && bucket.take()) taken++
  t.equal(taken, 5)
  now += 300
  t.ok(bucket.take(3))
  t.notOk(bucket.take(1))
  now += 10_000
  t.ok(bucket.take(5))
  t.notOk(bucket.take(1), 'never more than the burst')
  bucket.giveBack(2)
  t.ok(bucket.take(2), 'tokens given back can be taken again')
  bucket.giveBack(50)
  t.notOk(bucket.take(6), 'but never past the burst')
  t.end()
})
