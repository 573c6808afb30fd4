import { join } from 'node:path'
import t from 'tap'
import { randomFile, runShoal, startPeer, startTracker, tempDir, waitUntil } from '@shoal/testkit'

const TOKEN = 'stats-token'
/** Figures that move on their own between two reads of /stats. */
const MOVING = ['time', 'uptimeSeconds', 'messagesPerSecond', 'totals', 'recent', 'history']

function steady(stats: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(stats).filter(([key]) => !MOVING.includes(key)))
}

/** `shoal stats` with the environment of a person who has not set a token. */
function stats(args: string[]) {
  return runShoal(['stats', ...args], { env: { SHOAL_TRACKER_TOKEN: '' } })
}

t.test('shoal stats reads a real tracker with a peer sharing a content', async (t) => {
  const tracker = await startTracker(t, { token: TOKEN })
  const peer = await startPeer(t, { trackers: [tracker.url], trackerToken: TOKEN })
  const dir = await tempDir(t, 'shoal-files-')
  await randomFile(join(dir, 'album.bin'), 1024 * 1024)
  const share = await peer.cli(['share', join(dir, 'album.bin'), '--json', '--chunk-size', '256K'])
  t.equal(share.code, 0, share.stderr)
  const { id } = JSON.parse(share.stdout) as { id: string }
  await waitUntil(async () => (await tracker.stats()).chunkReplicas === 4, { timeoutMs: 10_000, what: 'the share reaches the index' })

  t.test('human output: an aligned table of the figures', async (t) => {
    const human = await stats([tracker.url])
    t.equal(human.code, 0, human.stderr)
    t.match(human.stdout, new RegExp([
      `^tracker {9}${tracker.httpUrl}/`, 'peers online {4}1', 'contents {8}1', 'chunk replicas {2}4', 'connections {5}1',
      'messages/s {6}[\\d.]+', 'manifests {7}1', 'uptime {10}\\d+s', '', "totals since the tracker's data folder was made", ' {2}messages {2}',
    ].join('\\n')))
    t.match(human.stdout, /\n {2}register +[1-9]\d*\n[^]*\n {2}publish +1\n[^]*\n {2}manifests published +1\n/, 'totals: its registers and its one publish')
    t.notMatch(human.stdout, /most-shared/, 'without the token, no content list (the tracker keeps it to token holders)')
    const withToken = await runShoal(['stats', tracker.url], { env: { SHOAL_TRACKER_TOKEN: TOKEN } })
    t.match(withToken.stdout, new RegExp(`\nmost-shared contents\n {2}content +peers +seeders +chunks +availability +name\n {2}${id.slice(0, 12)} +1 +1 +4 +min 1, mean 1 +album\\.bin\n$`), 'with it, the most-shared contents')
    const http = await stats([tracker.httpUrl])
    t.match(http.stdout, /^tracker .*\npeers online {4}1\n/, 'the http:// address works as well')
  })

  t.test('--json prints what GET /stats answers', async (t) => {
    const printed = await stats([tracker.url, '--json'])
    const direct = (await (await fetch(tracker.statsUrl)).json()) as Record<string, unknown>
    t.equal(printed.code, 0, printed.stderr)
    const parsed = JSON.parse(printed.stdout) as Record<string, unknown>
    t.same(Object.keys(parsed), Object.keys(direct), 'the same fields in the same order')
    t.same(steady(parsed), steady(direct), 'the same figures')
    t.ok(Math.abs((parsed.time as number) - (direct.time as number)) < 10_000, 'read moments apart')
    t.equal(printed.stdout, `${JSON.stringify(parsed)}\n`, 'unchanged: the compact JSON the tracker sent')
  })

  t.test('--content: one content, with the token', async (t) => {
    const human = await runShoal(['stats', tracker.url, '--content', id, '--token', TOKEN])
    t.equal(human.code, 0, human.stderr)
    t.match(human.stdout, new RegExp([
      `^content {18}${id}`, 'peers {20}1', 'seeders {18}1', 'chunks {19}4', 'availability {13}min 1, mean 1 \\(holders per chunk\\)', 'under-replicated chunks  \\d+\\n$',
    ].join('\n')))
    const json = await runShoal(['stats', tracker.url, '--content', id, '--json'], { env: { SHOAL_TRACKER_TOKEN: TOKEN } })
    const direct = await (await fetch(`${tracker.httpUrl}/stats/contents/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()
    t.same(JSON.parse(json.stdout), direct, '--json equals GET /stats/contents/:id')
  })

  t.test('failures are one line and exit status 1', async (t) => {
    const cases: [string[], RegExp][] = [
      [[tracker.url, '--content', id], /^shoal: the tracker wants its token for this: give --token or set SHOAL_TRACKER_TOKEN\n$/],
      [[tracker.url, '--content', id, '--token', 'wrong'], /^shoal: the tracker refused the token\n$/],
      [[tracker.url, '--content', 'ef'.repeat(32), '--token', TOKEN], /^shoal: the tracker knows no content (ef){32}: no peers and no manifest for this content\n$/],
      [[tracker.url, '--content', id.slice(0, 12)], /^shoal: --content must be a content id of 64 hex digits, not "[0-9a-f]{12}"\n$/],
      [['tracker.example:7070'], /^shoal: "tracker\.example:7070" is not a tracker URL; give the tracker as ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/host\[:port\]\n$/],
      [['ws://127.0.0.1:1'], /^shoal: cannot reach the tracker at http:\/\/127\.0\.0\.1:1\/: connect ECONNREFUSED 127\.0\.0\.1:1\n$/],
    ]
    for (const [args, stderr] of cases) {
      const r = await stats(args)
      t.equal(r.code, 1, args.join(' '))
      t.match(r.stderr, stderr, args.join(' '))
      t.equal(r.stdout, '', 'nothing on stdout')
    }
  })
})
