import { join } from 'node:path'
import t from 'tap'
import { randomFile, sha256File, startPeer, startTracker, tempDir, waitUntil } from '@shoal/testkit'
import { FAST, isDone, startGet, waitContent } from '../lib/swarm.js'

t.test('--tracker-token: a tracker started with --token admits peers that carry it and refuses the others', async (t) => {
  const token = 'a-shared-secret-token'
  const tracker = await startTracker(t, { token })
  const dir = await tempDir(t, 'shoal-e2e-')
  const source = join(dir, 'payload.bin')
  const hash = await randomFile(source, 1024 * 1024)

  const a = await startPeer(t, { trackers: [tracker.url], trackerToken: token, tuning: FAST })
  const share = await a.cli(['share', source, '--json', '--chunk-size', '256K'])
  t.equal(share.code, 0, share.stderr)
  const shared = JSON.parse(share.stdout) as { id: string; link: string }
  await waitUntil(async () => ((await tracker.stats()).peersOnline === 1 ? true : undefined), { what: 'A registered', timeoutMs: 10_000 })

  const stranger = await startPeer(t, { trackers: [tracker.url], tuning: FAST })
  const refused = await waitUntil(async () => {
    const s = await stranger.api.status()
    return s.trackers.find((x) => x.url === tracker.url && x.state === 'stopped')
  }, { what: 'the tokenless peer refused', timeoutMs: 10_000 })
  t.match(refused.error, /token|auth/i, `refused: ${refused.error}`)
  const get = await stranger.cli(['get', shared.link, '-o', join(dir, 'never.bin')])
  t.equal(get.code, 1, 'a peer without the token cannot download through this tracker')
  t.match(get.stderr, /^shoal: .+\n$/)
  t.equal((await tracker.stats()).peersOnline, 1, 'the tracker still lists only A')
  const unannounced = await stranger.cli(['share', source])
  t.equal(unannounced.code, 0, 'a share is kept all the same')
  t.match(unannounced.stderr, /^warning: .*refused this daemon, so it is not told until the daemon restarts with the right --tracker-token\n$/, `and the warning says what to do: ${unannounced.stderr.trim()}`)

  const b = await startPeer(t, { trackers: [tracker.url], trackerToken: token, tuning: FAST })
  await startGet(b, shared.link, join(dir, 'b.bin'))
  await waitContent(b, shared.id, isDone, 'B complete')
  t.equal(await sha256File(join(dir, 'b.bin')), hash, 'a peer with the token downloads the file')
  t.equal((await tracker.stats()).peersOnline, 2, 'A and B are listed')
})
