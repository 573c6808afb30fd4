import { existsSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { ChildNode, runShoal, SHOAL_CLI, startTracker, tempDir } from '@shoal/testkit'
import type { Cleanup } from '@shoal/testkit'
import { findProgram, runProgram, skipUnless } from '../lib/ops-programs.js'
import { daemonLog, spawnTracker, TRACKER_CLI } from '../lib/ops-processes.js'
import { RawPeer } from '../lib/ops-raw-peer.js'
import { parseEnvironmentFile, UnitFile } from '../lib/ops-unit-file.js'

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url))
const TRACKER_UNIT = join(DEPLOY, 'shoal-tracker.service')
const PEER_UNIT = join(DEPLOY, 'shoal-peer.service')
const NODE = '/usr/bin/node'
const needSystemd = skipUnless({ 'systemd-analyze': 'systemd' })

/**
 * The unit as shipped, or (where node is not at the path the units name) a copy pointing at
 * this node, since `verify` checks that the command exists.
 */
async function unitToVerify(t: Cleanup, path: string): Promise<string> {
  if (existsSync(NODE)) return path
  const copy = join(await tempDir(t, 'shoal-unit-'), basename(path))
  await writeFile(copy, (await readFile(path, 'utf8')).replaceAll(NODE, process.execPath))
  return copy
}

t.test('systemd-analyze verify accepts both units without a complaint', { skip: needSystemd }, async (t) => {
  const analyze = findProgram('systemd-analyze')!
  const system = await runProgram(analyze, ['verify', await unitToVerify(t, TRACKER_UNIT)])
  t.same(system, { code: 0, stdout: '', stderr: '' }, 'shoal-tracker.service (system unit)')
  // A user manager needs a runtime folder; a private one does for verifying.
  const runtime = await tempDir(t, 'shoal-runtime-')
  const user = await runProgram(analyze, ['--user', 'verify', await unitToVerify(t, PEER_UNIT)], { env: { ...process.env, XDG_RUNTIME_DIR: runtime } })
  t.same(user, { code: 0, stdout: '', stderr: '' }, 'shoal-peer.service (user unit)')
})

t.test('the tracker unit is hardened', async (t) => {
  const unit = new UnitFile(TRACKER_UNIT)
  for (const [key, value] of [['DynamicUser', 'yes'], ['ProtectSystem', 'strict'], ['StateDirectory', 'shoal-tracker'], ['Restart', 'on-failure'], ['NoNewPrivileges', 'yes']]) {
    t.equal(unit.one('Service', key), value, `${key}=${value}`)
  }
})

t.test('systemd-analyze security rates the tracker unit OK', { skip: needSystemd }, async (t) => {
  const security = await runProgram(findProgram('systemd-analyze')!, ['security', '--offline=true', await unitToVerify(t, TRACKER_UNIT)])
  if (/unrecognized option/.test(security.stderr)) return t.pass('not checked', { skip: 'this systemd-analyze has no offline security check (systemd < 252)' })
  const level = /Overall exposure level for shoal-tracker\.service: ([\d.]+)/.exec(security.stdout)
  t.ok(level !== null, 'systemd-analyze security reports an exposure level')
  t.ok(Number(level?.[1]) <= 2, `exposure level ${level?.[1]} is at most 2.0 (of 10)`)
})

/** `--flags` and `$VARIABLES` an ExecStart= line uses. */
function execStartUses(unit: UnitFile): { flags: string[]; variables: Set<string> } {
  const line = unit.one('Service', 'ExecStart')
  return {
    flags: [...line.matchAll(/(?:^|\s)(--[a-z0-9-]+)/g)].map((m) => m[1]),
    variables: new Set([...line.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1])),
  }
}

t.test('every flag and environment variable the units use is one the CLIs know', async (t) => {
  const trackerHelp = await runProgram(process.execPath, [TRACKER_CLI, '--help'])
  const daemonHelp = await runShoal(['daemon', '--help'])
  // Variables ExecStart= needs that no Environment= default sets (an EnvironmentFile= would have to).
  const cases: [string, string, string[]][] = [[TRACKER_UNIT, trackerHelp.stdout, []], [PEER_UNIT, daemonHelp.stdout, []]]
  for (const [path, help, required] of cases) {
    const unit = new UnitFile(path)
    const name = basename(path)
    const defaults = unit.environment('/home/someone')
    const { flags, variables } = execStartUses(unit)
    for (const flag of flags) t.match(help, new RegExp(`\\s${flag}[\\s,]`), `${name}: ${flag} is in --help`)
    // A variable the command line does not use must be one the program (or Node.js and
    // libuv: NODE_*, UV_*) reads itself.
    for (const variable of defaults.keys()) {
      if (variables.has(variable) || /^(NODE|UV)_/.test(variable)) continue
      t.match(help, new RegExp(`env:\\s+${variable}\\)`), `${name}: ${variable} is in --help`)
    }
    t.same([...variables].filter((v) => !defaults.has(v)), required, `${name}: ExecStart= variables without a default`)
    for (const v of required) t.match(await readFile(path, 'utf8'), new RegExp(`^#.*${v}`, 'm'), `${name}: its comments name ${v}`)
  }
})

/** ExecStart's arguments after `node <installed CLI path>` (to run with this checkout's CLI). */
function cliArgs(t: Test, argv: string[], installed: string): string[] {
  t.equal(argv[0], NODE, `the unit runs ${NODE}`)
  t.ok(argv[1].endsWith(installed), `the unit's CLI path ends in ${installed}, as in a checkout`)
  return argv.slice(2)
}

t.test("the tracker unit's command line and environment start a working tracker", async (t) => {
  const unit = new UnitFile(TRACKER_UNIT)
  const dir = await tempDir(t, 'shoal-unit-')
  t.same(unit.environmentFiles('/root'), [{ path: '/etc/shoal/tracker.env', optional: true }], 'tracker.env is optional')
  // What an operator would put in /etc/shoal/tracker.env; a free port instead of 7070.
  const envFile = `# test settings\nSHOAL_TRACKER_DATA_DIR=${dir}/state\nSHOAL_TRACKER_PORT=0\nSHOAL_TRACKER_LOG_LEVEL="info"\n`
  const env = new Map([...unit.environment('/root'), ...parseEnvironmentFile(envFile)])
  const args = cliArgs(t, unit.execStart('/root', env), '/tracker/dist/src/cli.js')
  const { child, url } = await spawnTracker(t, args, Object.fromEntries(env))
  t.equal(new URL(url).hostname, '127.0.0.1', 'it listens where SHOAL_TRACKER_HOST says (behind nginx)')
  t.ok((await stat(join(dir, 'state'))).isDirectory(), 'it keeps its data in SHOAL_TRACKER_DATA_DIR')

  // SHOAL_TRACKER_TRUST_PROXY=true: the address comes from the proxy's X-Forwarded-For.
  const peer = await RawPeer.connect(t, url, { headers: { 'x-forwarded-for': '127.0.0.9' } })
  t.equal((await peer.register(7071)).address, '127.0.0.9', 'SHOAL_TRACKER_TRUST_PROXY is honoured')

  // KillSignal=SIGTERM with TimeoutStopSec=15s: the tracker must stop cleanly well within it.
  const started = Date.now()
  t.equal(await child.kill('SIGTERM'), 0, 'SIGTERM stops it with exit status 0')
  t.ok(Date.now() - started < 15_000, 'within TimeoutStopSec')
})

t.test("the peer unit's command line, environment and config file start a daemon that registers", async (t) => {
  const tracker = await startTracker(t, { token: 'unit-token' })
  const unit = new UnitFile(PEER_UNIT)
  const home = await tempDir(t, 'shoal-home-')
  const env = unit.environment(home)
  const config = join(home, '.config/shoal/peer.yaml')
  t.equal(env.get('SHOAL_CONFIG'), config, 'the settings are in ~/.config/shoal/peer.yaml')
  const [envFile] = unit.environmentFiles(home)
  t.same(envFile, { path: join(home, '.config/shoal/peer.env'), optional: true }, 'peer.env is optional (for variables, such as the token)')
  await mkdir(join(home, '.config/shoal'), { recursive: true })
  // As docs/run-a-peer.md has them, with test addresses: loopback and a free port.
  await writeFile(config, `tracker:\n  - ${tracker.url}\nhost: 127.0.0.1\nport: 0\nuploadLimit: 2M\n`)
  await writeFile(envFile.path, 'SHOAL_TRACKER_TOKEN=unit-token\n')
  for (const [key, value] of parseEnvironmentFile(await readFile(envFile.path, 'utf8'))) env.set(key, value)
  const args = cliArgs(t, unit.execStart(home, env), '/peer/dist/src/cli.js')
  t.same(args, ['daemon'], 'the command line is only `daemon`: every setting comes from the file and the variables')
  const child = new ChildNode(SHOAL_CLI, args, { ...Object.fromEntries(env), HOME: home })
  t.teardown(() => child.kill())
  const ready = await daemonLog(child, 'daemon ready', 'daemon start')
  t.equal(ready.dataDir, join(home, '.shoal'), 'its data is in SHOAL_DATA_DIR')
  t.same(ready.trackers, [tracker.url], 'its default tracker is the config file\'s')
  const registered = await daemonLog(child, 'registered with tracker', 'daemon registers')
  t.equal(registered.tracker, tracker.url, 'it registered with that tracker, with the token from peer.env')
  const status = await runShoal(['status', '--json'], { dataDir: join(home, '.shoal') })
  t.match(JSON.parse(status.stdout), { trackers: [{ url: tracker.url, state: 'registered' }] }, '`shoal status` finds the daemon through SHOAL_DATA_DIR')
  t.equal((await tracker.stats()).peersOnline, 1, 'the tracker counts it')
  t.equal(await child.kill('SIGTERM'), 0, 'SIGTERM stops it with exit status 0')
})
