import { join } from 'node:path'
import t from 'tap'
import { sha256File } from '@shoal/testkit'
import { isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('share on A, get on B and C: C receives chunks from both A and B', async (t) => {
  const { dir, peer, seeder, hash, shared, tracker } = await startSwarm(t, { size: 8 * 1024 * 1024, seederLimit: '4M' })
  const b = await peer()
  const c = await peer()
  await startGet(b, shared.link, join(dir, 'b.bin'))
  // B gets a head start, so it holds chunks C can take from it instead of from A.
  await waitContent(b, shared.id, (s) => s.have >= 8, 'B holds 8 chunks')
  await startGet(c, shared.link, join(dir, 'c.bin'))
  const [doneB, doneC] = await Promise.all([
    waitContent(b, shared.id, isDone, 'B complete'),
    waitContent(c, shared.id, isDone, 'C complete'),
  ])
  t.equal(await sha256File(join(dir, 'b.bin')), hash)
  t.equal(await sha256File(join(dir, 'c.bin')), hash)
  t.equal(doneB.have, shared.chunks)
  const fromA = doneC.sources.find((s) => s.peerId === seeder.peerId)?.chunks ?? 0
  const fromB = doneC.sources.find((s) => s.peerId === b.peerId)?.chunks ?? 0
  t.ok(fromA > 0, `C got ${fromA} chunks from A`)
  t.ok(fromB > 0, `C got ${fromB} chunks from B`)
  t.equal(fromA + fromB, shared.chunks, 'every chunk came from A or B, once')
  t.equal((await tracker.stats()).peersOnline, 3)
})
