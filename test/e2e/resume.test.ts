import { join } from 'node:path'
import t from 'tap'
import { sha256File } from '@shoal/testkit'
import { isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('a downloader killed with SIGKILL resumes, re-fetching at most its in-flight chunks', async (t) => {
  const { dir, peer, hash, shared } = await startSwarm(t, { size: 8 * 1024 * 1024, seederLimit: '2M' })
  const b = await peer()
  await startGet(b, shared.link, join(dir, 'b.bin'))
  const before = await waitContent(b, shared.id, (s) => s.have >= 8, 'B a quarter done')
  await b.kill('SIGKILL')
  await b.start()
  const resumed = await b.api.content(shared.id)
  t.ok(resumed.have >= before.have, `nothing verified was lost: ${before.have} before the kill, ${resumed.have} after`)
  t.ok(resumed.have < shared.chunks, 'still something to fetch')
  const done = await waitContent(b, shared.id, isDone, 'B complete after restart')
  t.equal(await sha256File(join(dir, 'b.bin')), hash)
  t.equal(done.fetchedChunks, shared.chunks - resumed.have, 'only chunks not verified at the kill were fetched again')
})
