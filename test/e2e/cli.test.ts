import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t from 'tap'
import { runShoal, SHOAL_CLI, startPeer, tempDir, within } from '@shoal/testkit'
import { isDone, startSwarm, waitContent } from '../lib/swarm.js'

t.test('--version on both commands prints the package version', async (t) => {
  const version = (name: string) => (JSON.parse(readFileSync(fileURLToPath(new URL(`../../../${name}/package.json`, import.meta.url)), 'utf8')) as { version: string }).version
  const shoal = await runShoal(['--version'])
  t.same({ code: shoal.code, stdout: shoal.stdout }, { code: 0, stdout: `${version('peer')}\n` }, 'shoal --version')
  const trackerCli = join(dirname(fileURLToPath(import.meta.resolve('@shoal/tracker'))), 'cli.js')
  const tracker = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(process.execPath, [trackerCli, '--version'], { timeout: 30_000 }, (err, stdout) => resolve({ code: err === null ? 0 : (err.code as number | null), stdout }))
  })
  t.same(tracker, { code: 0, stdout: `${version('tracker')}\n` }, 'shoal-tracker --version')
})

t.test('help everywhere', async (t) => {
  for (const args of [['--help'], ...['daemon', 'share', 'get', 'status', 'ls', 'rm'].map((c) => [c, '--help'])]) {
    const r = await runShoal(args)
    t.equal(r.code, 0, args.join(' '))
    t.match(r.stdout, /^Usage: shoal/)
  }
})

t.test('error paths: one clear line, non-zero exit, no stack trace', async (t) => {
  const dir = await tempDir(t)
  const cases: [string[], RegExp][] = [
    [['status', '--data-dir', join(dir, 'none')], /^shoal: no daemon is running for .*none; start one with: shoal daemon --data-dir .*none\n$/],
    [['ls', '--data-dir', join(dir, 'none')], /start one with: shoal daemon/],
    [['get', 'shoal:1234', '--data-dir', join(dir, 'none')], /^shoal: content id must be 64 hex digits\n$/],
    [['daemon', '--data-dir', join(dir, 'refused'), '--max-uploads', '0'], /^shoal: --max-uploads \(SHOAL_MAX_UPLOADS, "maxUploads" in a config file\): must be an integer from 1 to 1000000\n$/],
    [['daemon', '--data-dir', join(dir, 'refused'), '--tracker', 'http://x'], /^shoal: --tracker \(SHOAL_TRACKER, "tracker" in a config file\): tracker "http:\/\/x" must be a ws:\/\/ or wss:\/\/ URL\n$/],
  ]
  const p = await startPeer(t)
  await writeFile(join(dir, 'file'), 'x')
  cases.push(
    [['get', `shoal:${'cd'.repeat(32)}?tr=ws%3A%2F%2F127.0.0.1%3A9`, '--data-dir', p.dataDir], /^shoal: cannot reach tracker ws:\/\/127\.0\.0\.1:9: .*\n$/],
    [['get', `shoal:${'cd'.repeat(32)}`, '--data-dir', p.dataDir], /^shoal: trackers: no tracker given and the daemon has no default \(--tracker\)\n$/],
    [['share', join(dir, 'missing'), '--tracker', 'ws://127.0.0.1:9', '--data-dir', p.dataDir], /^shoal: cannot read .*missing: ENOENT\n$/],
    [['share', join(dir, 'file'), '--tracker', 'http://x', '--data-dir', p.dataDir], /^shoal: tracker "http:\/\/x" must be a ws:\/\/ or wss:\/\/ URL\n$/],
    [['rm', 'abcdef', '--data-dir', p.dataDir], /^shoal: no content abcdef\n$/],
  )
  for (const [args, expected] of cases) {
    const r = await runShoal(args)
    t.equal(r.code, 1, args.join(' '))
    t.match(r.stderr, expected, args.join(' '))
  }
})

t.test('unwritable output and Ctrl-C during get', async (t) => {
  const { dir, peer, shared } = await startSwarm(t, { size: 4 * 1024 * 1024, seederLimit: '1M' })
  const b = await peer()
  await writeFile(join(dir, 'blocker'), 'x')
  const bad = await b.cli(['get', shared.link, '-o', join(dir, 'blocker', 'out.bin')])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /^shoal: cannot create .*blocker\/out\.bin: a parent is not a folder\n$/)

  const get = spawn(process.execPath, [SHOAL_CLI, 'get', shared.link, '-o', join(dir, 'b.bin'), '--data-dir', b.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => get.kill('SIGKILL'))
  let stderr = ''
  get.stderr!.on('data', (d) => (stderr += d))
  await waitContent(b, shared.id, (s) => s.have >= 1, 'download under way')
  get.kill('SIGINT')
  const [code] = await within(once(get, 'exit'), 15_000, () => new Error('shoal get did not exit within 15 s of Ctrl-C'))
  t.equal(code, 130)
  t.match(stderr, /the download goes on in the daemon; follow it with: shoal status/)
  await waitContent(b, shared.id, isDone, 'the daemon finished it anyway')
})

t.test('get of a content already held: -o elsewhere is refused, not answered with "done" at the old place', async (t) => {
  const { dir, seeder, shared, source } = await startSwarm(t, { size: 64 * 1024 })
  const elsewhere = await seeder.cli(['get', shared.link, '-o', join(dir, 'copy.bin')])
  t.equal(elsewhere.code, 1)
  t.match(elsewhere.stderr, /^shoal: .*already here, at .*; it is not copied to .*copy\.bin\n$/)
  const same = await seeder.cli(['get', shared.link, '-o', source, '--json'])
  t.equal(same.code, 0, `-o naming where it is: fine (${same.stderr.trim()})`)
})

t.test('ls says when there is nothing; rm names what it removed and refuses an empty id', async (t) => {
  const p = await startPeer(t)
  const dir = await tempDir(t)
  const empty = await p.cli(['ls'])
  t.equal(empty.stdout, 'no contents; share one with: shoal share <path>\n')
  await writeFile(join(dir, 'notes.txt'), 'some notes')
  const shared = await p.api.share(join(dir, 'notes.txt'), { trackers: ['ws://127.0.0.1:9'] })
  const blank = await p.cli(['rm', ''])
  t.equal(blank.code, 1)
  t.equal(blank.stderr, 'shoal: id: give a content id or the start of one\n')
  const rm = await p.cli(['rm', shared.id.slice(0, 6).toUpperCase()])
  t.equal(rm.code, 0, rm.stderr)
  t.equal(rm.stdout, `removed ${shared.id.slice(0, 12)} notes.txt\n`, 'by its id and name, not the prefix typed')
})
