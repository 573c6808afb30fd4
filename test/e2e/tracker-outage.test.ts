import { join } from 'node:path'
import t from 'tap'
import { sha256File, waitUntil } from '@shoal/testkit'
import { isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('tracker killed mid-download: every download completes with the sources it knows', async (t) => {
  const { dir, peer, hash, shared, tracker } = await startSwarm(t, { size: 12 * 1024 * 1024, seederLimit: '4M' })
  const b = await peer()
  const c = await peer()
  await startGet(b, shared.link, join(dir, 'b.bin'))
  await startGet(c, shared.link, join(dir, 'c.bin'))
  await Promise.all([b, c].map((p) => waitContent(p, shared.id, (s) => s.have >= 4, 'download under way')))
  await tracker.kill('SIGKILL')
  const before = await b.api.content(shared.id)
  t.ok(before.have < shared.chunks, `B had ${before.have} of ${shared.chunks} chunks when the tracker died`)
  await Promise.all([b, c].map((p) => waitContent(p, shared.id, isDone, 'complete without a tracker')))
  t.equal(await sha256File(join(dir, 'b.bin')), hash)
  t.equal(await sha256File(join(dir, 'c.bin')), hash)
  const status = await b.api.status()
  t.not(status.trackers[0].state, 'registered', 'the tracker was down all along')
})

t.test('tracker restarted: every live peer is re-registered within seconds', async (t) => {
  const { dir, peer, hash, shared, tracker, seeder } = await startSwarm(t, { size: 6 * 1024 * 1024, seederLimit: '3M' })
  const b = await peer()
  const c = await peer()
  await startGet(b, shared.link, join(dir, 'b.bin'))
  await waitContent(b, shared.id, (s) => s.have >= 2, 'B under way')
  await waitUntil(async () => (await tracker.stats()).peersOnline === 3, { what: 'three peers online' })
  await tracker.kill('SIGKILL')
  await Promise.all([seeder, b, c].map((p) => waitUntil(async () => (await p.api.status()).trackers[0].state !== 'registered', { what: 'peer saw the tracker go' })))
  const restarted = Date.now()
  await tracker.start()
  const stats = await waitUntil(async () => {
    const s = await tracker.stats()
    return s.peersOnline === 3 ? s : undefined
  }, { timeoutMs: 10_000, what: 'all three peers back in /stats' })
  const seconds = (Date.now() - restarted) / 1000
  t.ok(seconds < 5, `re-registered in ${seconds.toFixed(2)} s`)
  t.ok(stats.contents >= 1, 'with their contents')
  // The rebuilt index is live: a peer that joins now finds the others through it.
  await waitContent(b, shared.id, isDone, 'B complete')
  const findsOf = async () => ((await tracker.stats()).totals as { find: number }).find
  const findsBefore = await findsOf()
  await startGet(c, shared.link, join(dir, 'c.bin'))
  const done = await waitContent(c, shared.id, isDone, 'C complete through the restarted tracker')
  t.equal(await sha256File(join(dir, 'c.bin')), hash)
  t.ok(done.sources.length >= 1)
  t.ok(await findsOf() > findsBefore, 'C asked the restarted tracker for sources')
})
