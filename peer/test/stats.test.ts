import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { alignRows, formatContentStats, formatCount, formatDuration, formatTrackerStats } from '../src/cli/stats-format.js'
import { trackerStatsText } from '../src/cli/stats-command.js'
import { trackerHttpBase } from '../src/cli/tracker-http.js'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))
const ID = 'ab'.repeat(32)

function shoal(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const inherited = { ...process.env }
    delete inherited.SHOAL_TRACKER_TOKEN
    execFile(process.execPath, [CLI, ...args], { env: { ...inherited, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

const STATS = {
  time: 1, peersOnline: 1234, contents: 2, chunkReplicas: 1_500_000, connections: 1240, messagesPerSecond: 12.345, uptimeSeconds: 93_784, manifests: 3,
  totals: { messages: 10, register: 2, rateLimited: 1 }, recent: [], history: [],
}
const CONTENT = { peers: 3, seeders: 1, chunkCount: 16, availability: { min: 1, mean: 1.5 }, underReplicatedChunks: 4 }

t.test('tracker URLs as peers get them map to the HTTP base', async (t) => {
  t.equal(trackerHttpBase('ws://127.0.0.1:7070').href, 'http://127.0.0.1:7070/')
  t.equal(trackerHttpBase('wss://tracker.example').href, 'https://tracker.example/')
  t.equal(trackerHttpBase('https://tracker.example/shoal').href, 'https://tracker.example/shoal/', 'a path prefix stays')
  t.equal(trackerHttpBase('http://h:1/x/?q=1#f').href, 'http://h:1/x/')
  t.equal(trackerHttpBase('http://127.0.0.1:7070/stats').href, 'http://127.0.0.1:7070/', 'the stats URL a tracker prints')
  t.equal(trackerHttpBase('https://tracker.example/shoal/stats/').href, 'https://tracker.example/shoal/')
  t.equal(trackerHttpBase('wss://tracker.example/stats').href, 'https://tracker.example/stats/', 'a WebSocket URL is a tracker URL as it is')
  t.throws(() => trackerHttpBase('tracker.example'), { message: /^"tracker\.example" is not a URL; give the tracker as ws:\/\//, status: 1 })
  t.throws(() => trackerHttpBase('ftp://tracker.example'), { message: /is not a tracker URL/ })
  t.throws(() => trackerHttpBase('ws://u:p@tracker.example'), { message: /may not carry credentials; give --token/ })
})

t.test('figures read by people', async (t) => {
  t.equal(formatDuration(93_784), '1d 2h 3m')
  t.equal(formatDuration(3725), '1h 2m 5s')
  t.equal(formatDuration(59.9), '59s')
  t.equal(formatDuration(0), '0s')
  t.equal(formatDuration(-1), '?')
  t.equal(formatCount(1_500_000), '1,500,000')
  t.equal(formatCount(12.345), '12.35')
  t.equal(formatCount(undefined), '?')
  t.same(alignRows([['a', 'b', 'c'], ['long', '', 'x'], ['z', 'y', '']], '  '), ['  a     b  c', '  long     x', '  z     y'])
  const text = formatTrackerStats('http://h/', {
    ...STATS,
    mostShared: [{ content: ID, name: 'big\u001b[2Jfile.iso', ...CONTENT }, { content: 'cd'.repeat(32), ...CONTENT }],
  })
  t.match(text, /^tracker {9}http:\/\/h\/\npeers online {4}1,234\ncontents {8}2\nchunk replicas {2}1,500,000\nconnections {5}1,240\nmessages\/s {6}12\.35\nmanifests {7}3\nuptime {10}1d 2h 3m\n/)
  t.match(text, /\n {2}messages {6}10\n {2}register {6}2\n {2}rate limited {2}1\n/, 'totals, named in words')
  t.match(text, /\n {2}content {7}peers {2}seeders {2}chunks {2}availability {5}name\n {2}abababababab {2}3 {6}1 {8}16 {6}min 1, mean 1\.5 {2}big\\u001b\[2Jfile\.iso\n {2}cdcdcdcdcdcd .*mean 1\.5\n$/, 'most shared, names escaped')
  t.notMatch(formatTrackerStats('http://h/', STATS), /most-shared/, 'no list when the tracker keeps it to token holders')
  t.equal(formatContentStats(ID, CONTENT), [
    `content                  ${ID}`,
    'peers                    3',
    'seeders                  1',
    'chunks                   16',
    'availability             min 1, mean 1.5 (holders per chunk)',
    'under-replicated chunks  4',
    '',
  ].join('\n'))
})

t.test('shoal stats against an HTTP server answering as a tracker does', async (t) => {
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    const authorized = req.headers.authorization === 'Bearer s3cret'
    if (req.url === '/stats') return json(200, authorized ? { ...STATS, mostShared: [] } : STATS)
    if (req.url === `/stats/contents/${ID}`) return authorized ? json(200, CONTENT) : json(401, { code: 'ERR_AUTH', message: 'needs the token' })
    if (req.url?.startsWith('/stats/contents/')) return json(404, { code: 'ERR_NOT_FOUND', message: 'no peers and no manifest for this content' })
    if (req.url === '/broken/stats') return res.end('<html>not a tracker</html>')
    if (req.url === '/list/stats') return json(200, [1, 2])
    if (req.url === '/huge/stats') return res.end(Buffer.alloc(9 * 1024 * 1024, 32))
    if (req.url === '/plain/stats') return res.writeHead(502).end('bad gateway')
    json(500, { code: 'ERR_INTERNAL', message: 'it broke' })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const ws = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`

  // The command as a child process, end to end: output, exit status, SHOAL_TRACKER_TOKEN.
  const human = await shoal(['stats', ws])
  t.equal(human.code, 0, human.stderr)
  t.match(human.stdout, /^tracker {9}http:\/\/127\.0\.0\.1:\d+\/\npeers online {4}1,234\n/)
  t.same(JSON.parse((await shoal(['stats', ws, '--json'], { SHOAL_TRACKER_TOKEN: 's3cret' })).stdout), { ...STATS, mostShared: [] }, 'the token from its variable goes along')
  const refused = await shoal(['stats', ws, '--content', ID])
  t.same(refused, { code: 1, stdout: '', stderr: 'shoal: the tracker wants its token for this: give --token or set SHOAL_TRACKER_TOKEN\n' }, 'a failure is one line and status 1')

  // The rest in this process: what the command would print, or the line it would fail with.
  t.same(JSON.parse(await trackerStatsText(`${ws}/`, { json: true })), STATS, '--json is the answer unchanged')
  t.equal(await trackerStatsText(ws, { json: true, token: '' }), `${JSON.stringify(STATS)}\n`, 'an empty token is none')
  t.match(await trackerStatsText(ws, { content: ID.toUpperCase(), token: 's3cret' }), new RegExp(`^content {18}${ID}\npeers {20}3\n`))
  t.same(JSON.parse(await trackerStatsText(ws, { content: ID, token: 's3cret', json: true })), CONTENT)

  const failures: [string, Parameters<typeof trackerStatsText>[1], RegExp][] = [
    [ws, { content: ID, token: 'wrong' }, /^the tracker refused the token$/],
    [ws, { content: 'cd'.repeat(32) }, new RegExp(`^the tracker knows no content ${'cd'.repeat(32)}: no peers and no manifest for this content$`)],
    [ws, { content: 'cafe' }, /^--content must be a content id of 64 hex digits, not "cafe"$/],
    [ws, { ca: '/no/such/ca.pem' }, /^cannot read --ca \/no\/such\/ca\.pem: ENOENT/],
    [`${ws}/broken`, { json: true }, /^http:\/\/127\.0\.0\.1:\d+\/broken\/stats did not answer with tracker figures \(is it a Shoal tracker\?\)$/],
    [`${ws}/list`, {}, /did not answer with tracker figures/],
    [`${ws}/huge`, {}, /^cannot reach the tracker at http:\/\/127\.0\.0\.1:\d+\/huge\/: answer larger than 8388608 bytes$/],
    [`${ws}/plain`, {}, /^the tracker answered 502$/],
    [`${ws}/else`, {}, /^the tracker answered 500: it broke$/],
    ['ws://127.0.0.1:1', {}, /^cannot reach the tracker at http:\/\/127\.0\.0\.1:1\/: connect ECONNREFUSED 127\.0\.0\.1:1$/],
    ['not-a-url', {}, /^"not-a-url" is not a URL/],
  ]
  for (const [url, options, message] of failures) {
    await t.rejects(trackerStatsText(url, options), { message, status: 1 }, `${url} ${JSON.stringify(options)}`)
  }
})
