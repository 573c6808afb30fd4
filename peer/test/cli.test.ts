import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startDaemon } from '../src/index.js'
import { formatBytes, formatEta, formatRate, parseSize } from '../src/cli/units.js'
import { fakeTracker, swarmAnswers } from './fake-tracker.js'
import { tempDir, waitFor } from './helpers.js'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))

interface Run {
  code: number
  stdout: string
  stderr: string
  /** What ended the process if it did not exit by itself (the timeout's kill). */
  signal: NodeJS.Signals | null
}

function shoal(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr, signal: err?.signal ?? null })
    })
  })
}

t.test('sizes and rates', async (t) => {
  t.equal(parseSize('20M'), 20 * 1024 * 1024)
  t.equal(parseSize('1.5K'), 1536)
  t.equal(parseSize('3g'), 3 * 1024 ** 3)
  t.equal(parseSize('512'), 512)
  t.equal(parseSize('2MiB'), 2 * 1024 * 1024)
  t.throws(() => parseSize('fast'))
  t.throws(() => parseSize('99999999999G'))
  t.equal(formatBytes(1536), '1.50 KiB')
  t.equal(formatBytes(12), '12 B')
  t.equal(formatRate(200 * 1024 * 1024), '200.0 MiB/s')
  t.equal(formatEta(100, 0, 0), 'waiting for a peer', 'nothing flows and no peer: no number')
  t.equal(formatEta(100, 0, 2), '–', 'nothing flows yet')
  t.equal(formatEta(0, 0, 0), '0s')
  t.equal(formatEta(4200, 100, 1), '42s')
  t.equal(formatEta(18_500, 100, 1), '3m05s')
  t.equal(formatEta(7_800_000, 1000, 1), '2h10m')
  t.equal(formatEta(1e12, 1, 1), `${Math.floor(1e12 / 3600)}h`)
})

t.test('--help everywhere', async (t) => {
  const top = await shoal(['--help'])
  t.equal(top.code, 0)
  for (const cmd of ['daemon', 'share', 'get', 'status', 'ls', 'rm', 'pause', 'resume']) {
    t.match(top.stdout, cmd)
    const r = await shoal([cmd, '--help'])
    t.equal(r.code, 0, `${cmd} --help`)
    t.match(r.stdout, /Usage: shoal/)
    t.match(r.stdout, /--data-dir/)
  }
  t.notMatch((await shoal(['daemon', '--help'])).stdout, /reconnect-initial-ms/, 'tuning options stay hidden')
})

t.test('error paths are one line and a non-zero exit', async (t) => {
  const dir = await tempDir(t)
  const noDaemon = await shoal(['status', '--data-dir', dir])
  t.equal(noDaemon.code, 1)
  t.match(noDaemon.stderr, /^shoal: no daemon is running for .*; start one with: shoal daemon --data-dir .*\n$/)
  const badLink = await shoal(['get', 'http://example.com/x', '--data-dir', dir])
  t.equal(badLink.code, 1)
  t.equal(badLink.stderr, 'shoal: link must start with "shoal:"\n')
  const badRate = await shoal(['daemon', '--upload-limit', 'fast', '--data-dir', dir])
  t.not(badRate.code, 0)
  t.match(badRate.stderr, /expected a number of bytes/)
  const unknown = await shoal(['frobnicate'])
  t.not(unknown.code, 0)
  t.notMatch(unknown.stderr, /\n\s+at /, 'no stack trace')
})

t.test('commands against a running daemon', async (t) => {
  const tracker = await fakeTracker(t, { answer: swarmAnswers().answer })
  const dir = await tempDir(t)
  const seederDir = join(dir, 'seeder')
  const seeder = await startDaemon({ dataDir: seederDir, host: '127.0.0.1', port: 0, trackers: [tracker.url] })
  t.teardown(() => seeder.close())
  const env = { SHOAL_DATA_DIR: seederDir }
  const data = randomBytes(100_000)
  await writeFile(join(dir, 'f.bin'), data)

  const shared = await shoal(['share', join(dir, 'f.bin'), '--json', '--chunk-size', '16K'], env)
  t.equal(shared.code, 0, shared.stderr)
  const info = JSON.parse(shared.stdout)
  t.same(Object.keys(info).sort(), ['chunks', 'id', 'link', 'name', 'size'])
  t.match(info, { name: 'f.bin', size: 100_000, chunks: 7 })
  const plain = await shoal(['share', join(dir, 'f.bin'), '--chunk-size', '16K'], env)
  t.equal(plain.stdout, `${info.link}\n`)

  const getterDir = join(dir, 'getter')
  const getter = await startDaemon({ dataDir: getterDir, host: '127.0.0.1', port: 0, trackers: [tracker.url] })
  t.teardown(() => getter.close())
  const genv = { SHOAL_DATA_DIR: getterDir }
  const got = await shoal(['get', info.link, '-o', join(dir, 'copy.bin')], genv)
  t.equal(got.code, 0, got.stderr)
  t.match(got.stdout, /^done: .*copy\.bin \(97\.\d+ KiB, 7 chunks verified\)\n$/)
  t.same(await readFile(join(dir, 'copy.bin')), data)
  const again = await shoal(['get', info.link, '--json'], genv)
  t.match(JSON.parse(again.stdout), { id: info.id, state: 'seeding', have: 7 })

  const status = await shoal(['status', '--json'], genv)
  const parsed = JSON.parse(status.stdout)
  t.match(parsed.contents[0], { id: info.id, name: 'f.bin', size: 100_000, chunks: 7, have: 7, state: 'seeding', downloadedBytes: 100_000 })
  for (const key of ['peers', 'uploadedBytes', 'downloadRate', 'uploadRate']) t.ok(key in parsed.contents[0], key)
  t.match((await shoal(['status'], genv)).stdout, /seeding\s+100%/)
  t.match((await shoal(['ls'], genv)).stdout, new RegExp(`^${info.id}  seeding\\s+f\\.bin`))
  t.match(JSON.parse((await shoal(['ls', '--json'], genv)).stdout), [{ id: info.id, link: info.link }])
  t.match((await shoal(['pause', info.id.slice(0, 8)], genv)).stdout, /^paused /)
  t.match((await shoal(['resume', info.id.slice(0, 8)], genv)).stdout, /^seeding /)
  const notAnId = await shoal(['rm', 'photos'], genv)
  t.equal(notAnId.stderr, 'shoal: id: photos is not a content id nor the start of one (hex digits)\n', 'a word that is no id is told apart from an id not known')
  t.equal((await shoal(['pause', 'ABCDEF'], genv)).stderr, 'shoal: no content ABCDEF\n')
  t.match((await shoal(['rm', info.id.slice(0, 8)], genv)).stdout, /^removed /)
  const empty = await shoal(['status'], genv)
  t.match(empty.stdout, /no contents/)
  const unwritable = await shoal(['get', info.link, '-o', join(dir, 'f.bin', 'inside')], genv)
  t.equal(unwritable.code, 1)
  t.match(unwritable.stderr, /^shoal: cannot create .*inside: a parent is not a folder\n$/)
  const unreachable = await shoal(['get', `shoal:${'ab'.repeat(32)}?tr=ws%3A%2F%2F127.0.0.1%3A1`], genv)
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, /^shoal: cannot reach tracker ws:\/\/127\.0\.0\.1:1: .*\n$/)
})

t.test('names with control characters a manifest allows are printed escaped', async (t) => {
  const dir = await tempDir(t)
  const dataDir = join(dir, 'daemon')
  const tracker = await fakeTracker(t, { answer: swarmAnswers().answer })
  const daemon = await startDaemon({ dataDir, host: '127.0.0.1', port: 0, trackers: [tracker.url] })
  t.teardown(() => daemon.close())
  const env = { SHOAL_DATA_DIR: dataDir }
  // U+009B is a C1 control (CSI): some terminals act on it; manifests only forbid C0 and DEL.
  const name = 'red\u009b31m.bin'
  await writeFile(join(dir, name), randomBytes(1000))
  const shared = await shoal(['share', join(dir, name), '--json'], env)
  t.equal(shared.code, 0, shared.stderr)
  t.equal(JSON.parse(shared.stdout).name, name, 'JSON keeps the name as it is')
  for (const command of ['ls', 'status', 'pause', 'resume']) {
    const args = command === 'pause' || command === 'resume' ? [command, JSON.parse(shared.stdout).id] : [command]
    const out = (await shoal(args, env)).stdout
    t.notOk(out.includes('\u009b'), `${command}: no raw control character`)
    t.ok(out.includes('red\\u009b31m.bin'), `${command}: the name shows escaped`)
  }
})

t.test('shoal daemon runs in the foreground and stops cleanly', async (t) => {
  const tracker = await fakeTracker(t, { answer: swarmAnswers().answer })
  const dir = await tempDir(t)
  const child = spawn(process.execPath, [CLI, 'daemon', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--tracker', tracker.url,
    '--upload-limit', '1M', '--reconnect-initial-ms', '50'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  const lines = createInterface({ input: child.stdout! })
  const [line] = await waitFor(lines, 'line', {
    match: (line: string) => line.includes('"msg":"daemon ready"'), failOn: { close: () => true }, ms: 20_000, what: 'the daemon ready line',
  })
  const ready = JSON.parse(line as string) as Record<string, unknown>
  t.match(ready, { dataDir: dir, trackers: [tracker.url] })
  const port = ready.port as number
  const second = await shoal(['daemon', '--data-dir', dir, '--port', '0'])
  t.equal(second.code, 1)
  t.match(second.stderr, /another daemon is using it/)
  const clash = await shoal(['daemon', '--data-dir', await tempDir(t), '--host', '127.0.0.1', '--port', String(port)])
  t.match(clash.stderr, /^shoal: cannot listen on 127\.0\.0\.1:\d+: it is in use\n$/)
  child.kill('SIGTERM')
  const [code] = await waitFor(child, 'exit', { ms: 10_000, what: 'the daemon to exit' })
  t.equal(code, 0)
})

t.test('a daemon that cannot write daemon.json says why and exits', async (t) => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'daemon.json'))
  const run = await shoal(['daemon', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0'])
  t.equal(run.signal, null, 'it exits by itself')
  t.equal(run.code, 1)
  t.match(run.stderr, /^shoal: .*daemon\.json.*\n$/)
})
