import { join } from 'node:path'
import t from 'tap'
import { fromHex } from '@shoal/protocol'
import { sha256File } from '@shoal/testkit'
import { HostilePeer } from '../lib/hostile-peer.js'
import { isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('a peer serving wrong bytes is detected, banned and reported; the file is still right', async (t) => {
  const { dir, peer, seeder, hash, shared, tracker } = await startSwarm(t, { size: 4 * 1024 * 1024, seederLimit: '2M' })
  const hostile = new HostilePeer()
  await hostile.start(tracker.url, fromHex(shared.id, 32)!)
  t.teardown(() => hostile.close())
  const b = await peer()
  await startGet(b, shared.link, join(dir, 'b.bin'))
  const done = await waitContent(b, shared.id, isDone, 'B complete')
  t.equal(await sha256File(join(dir, 'b.bin')), hash)
  t.ok(hostile.served.length >= 2, `the hostile peer was asked for ${hostile.served.length} chunks`)
  t.same(done.banned, [hostile.peerIdHex], 'it is banned')
  t.equal(done.sources.find((s) => s.peerId === hostile.peerIdHex)?.chunks, 0, 'none of its bytes were kept')
  t.equal(done.sources.find((s) => s.peerId === seeder.peerId)?.chunks, shared.chunks, 'every chunk came from the honest seeder')
  t.ok(b.logs().some((e) => e.msg === 'source sent bad data' && e.banned === true), 'the ban is logged')
})

