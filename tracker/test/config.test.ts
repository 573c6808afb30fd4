import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { CloseCode } from '@shoal/protocol'
import { pino } from 'pino'
import { readConfigFile } from '../src/cli/config-file.js'
import { applyConfigFile, buildProgram, parseSettings } from '../src/cli/program.js'
import { SETTINGS, envName, kebabCase } from '../src/cli/settings.js'
import type { CliSettings } from '../src/cli/settings.js'
import { trackerInitOf } from '../src/cli/tracker-init.js'
import { boolean, bytes, choice, integer, path, seconds, text } from '../src/cli/value-types.js'
import { runCli, startCli } from './lib/cli-process.js'
import { TestClient } from './lib/client.js'
import { tempDir } from './lib/temp-dir.js'

/** Runs `fn` with these environment variables set, then puts the environment back. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const)
  Object.assign(process.env, env)
  try {
    return await fn()
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

const argv = (...args: string[]): string[] => ['node', 'shoal-tracker', ...args]

t.test('value types read flag text and config values, and say what they expect', (t) => {
  const port = integer(0, 65535)
  t.equal(port.fromText('7070'), 7070)
  t.equal(port.fromConfig(0, '/'), 0)
  for (const bad of ['70.5', '-1', '65536', '', ' 1']) t.throws(() => port.fromText(bad), { message: 'must be an integer from 0 to 65535' }, `text ${JSON.stringify(bad)}`)
  for (const bad of ['7070', 1.5, -1, null, true]) t.throws(() => port.fromConfig(bad, '/'), { message: 'must be an integer from 0 to 65535' }, `config ${JSON.stringify(bad)}`)
  const timeout = seconds(0.01, 3600)
  t.equal(timeout.fromText('0.25'), 0.25)
  t.equal(timeout.fromConfig(10, '/'), 10)
  for (const bad of ['0', '1e3', '.5', '3601', 'ten']) t.throws(() => timeout.fromText(bad), { message: 'must be a number of seconds from 0.01 to 3600' }, `text ${bad}`)
  t.throws(() => timeout.fromConfig('10', '/'))
  t.equal(boolean.fromText('YES'), true)
  t.equal(boolean.fromText('off'), false)
  t.throws(() => boolean.fromText('maybe'), { message: 'must be true or false' })
  t.equal(boolean.fromConfig(false, '/'), false)
  t.throws(() => boolean.fromConfig('true', '/'), { message: 'must be true or false' })
  const level = choice('<level>', ['info', 'debug'])
  t.equal(level.fromConfig('debug', '/'), 'debug')
  t.throws(() => level.fromConfig('loud', '/'), { message: 'must be one of info, debug' })
  t.throws(() => text('<secret>').fromConfig(42, '/'), { message: 'must be a non-empty string' })
  t.throws(() => text('<secret>').fromText(''), { message: 'must be a non-empty string' })
  const size = bytes(1, 2 ** 50)
  t.equal(size.fromText('4G'), 4 * 1024 ** 3)
  t.equal(size.fromText('512k'), 512 * 1024)
  t.equal(size.fromText('1000'), 1000)
  t.equal(size.fromConfig('2T', '/'), 2 * 1024 ** 4)
  t.equal(size.fromConfig(4096, '/'), 4096)
  for (const bad of ['4.5G', '0', '4GB', '-1', '', '2000T']) t.throws(() => size.fromText(bad), { message: /^must be a whole number of bytes from 1 to \d+, with an optional K, M, G or T suffix/ }, `text ${JSON.stringify(bad)}`)
  t.throws(() => size.fromConfig(true, '/'))
  const dir = path('<path>')
  t.equal(dir.fromText('data'), 'data', 'a flag keeps its path as given (relative to the working directory)')
  t.equal(dir.fromConfig('data', '/etc/shoal'), '/etc/shoal/data', 'a config file path is relative to the file')
  t.equal(dir.fromConfig('/srv/data', '/etc/shoal'), '/srv/data')
  t.end()
})

t.test('config files: JSON or YAML by extension, a mapping at the top, one-line errors', async (t) => {
  const dir = await tempDir(t)
  const write = async (name: string, body: string): Promise<string> => {
    await writeFile(join(dir, name), body)
    return join(dir, name)
  }
  t.same(await readConfigFile(await write('a.json', '{"port": 7071, "trustProxy": true}')), { port: 7071, trustProxy: true })
  t.same(await readConfigFile(await write('b.yaml', '# tracker\nport: 7072\ntoken: "0123"\n')), { port: 7072, token: '0123' })
  t.same(await readConfigFile(await write('c.YML', 'dataDir: /srv/shoal\n')), { dataDir: '/srv/shoal' }, '.yml, any case')
  t.same(await readConfigFile(await write('empty.yaml', '# everything commented out\n')), {}, 'an empty YAML file is empty settings')
  const refusals: [string, string, RegExp][] = [
    ['list.json', '[1, 2]', /: must be a mapping of setting names to values$/],
    ['scalar.yaml', 'just text', /: must be a mapping/],
    ['broken.json', '{"port": 1,}', /^config .*broken\.json: not valid JSON: /],
    ['broken.yaml', 'port: 1\n  nested: [\n', /^config .*broken\.yaml: not valid YAML: [^\n]*line 1[^\n:]*$/],
    ['twice.yaml', 'port: 1\nport: 2\n', /not valid YAML: Map keys must be unique/],
    ['settings.toml', 'port = 1', /: must end in \.json, \.yaml or \.yml$/],
  ]
  for (const [name, body, message] of refusals) await t.rejects(readConfigFile(await write(name, body)), { message }, name)
  await t.rejects(readConfigFile(join(dir, 'missing.json')), { message: /missing\.json: cannot read it: ENOENT/ })
})

t.test('precedence: flag > variable > config file > default', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'tracker.json')
  await writeFile(file, JSON.stringify({ port: 1111, ttl: 40, messageRate: 5, dataDir: 'data', registerTimeout: 0.25, trustProxy: true }))
  const layered = await withEnv({ SHOAL_TRACKER_TTL: '30', SHOAL_TRACKER_MESSAGE_RATE: '6' }, () => parseSettings(argv('--config', file, '--message-rate', '7')))
  t.match(layered, {
    port: 1111, // config beats default
    ttl: 30, // variable beats config
    messageRate: 7, // flag beats variable and config
    dataDir: join(dir, 'data'),
    registerTimeout: 0.25,
    trustProxy: true,
    messageBurst: 2000, // default
    host: '0.0.0.0',
  })
  const yaml = join(dir, 'tracker.yaml')
  await writeFile(yaml, 'port: 2222\nlogLevel: debug\n')
  const viaEnv = await withEnv({ SHOAL_TRACKER_CONFIG: yaml }, () => parseSettings(argv()))
  t.match(viaEnv, { port: 2222, logLevel: 'debug', ttl: 60 }, 'SHOAL_TRACKER_CONFIG names the file too')
  t.match(await parseSettings(argv()), { port: 7070, ttl: 60, registerTimeout: 10, maxContentsPerPeer: 1000, maxIndexedChunks: 2 ** 25, maxChunksPerPeer: 2 ** 24, messageBurst: 2000, trustProxy: false }, 'defaults')
})

t.test('a config file with an unknown key or a bad value is refused, naming the key', (t) => {
  const refuse = (entries: Record<string, unknown>): string => {
    try {
      applyConfigFile(buildProgram(), 'tracker.json', entries)
    } catch (err) {
      return (err as Error).message
    }
    return 'accepted'
  }
  t.equal(refuse({ prot: 7070 }), 'config tracker.json: unknown key "prot" (the keys are the option names of --help, in camelCase)')
  t.equal(refuse({ 'data-dir': 'x' }), 'config tracker.json: unknown key "data-dir" (did you mean "dataDir"?)')
  t.equal(refuse({ config: 'other.json' }), 'config tracker.json: unknown key "config" (the keys are the option names of --help, in camelCase)', 'no config file from a config file')
  t.equal(refuse({ port: 70_000 }), 'config tracker.json: "port" must be an integer from 0 to 65535, not 70000')
  t.equal(refuse({ trustProxy: 'yes' }), 'config tracker.json: "trustProxy" must be true or false, not "yes"')
  t.equal(refuse({ logLevel: 'loud' }), 'config tracker.json: "logLevel" must be one of fatal, error, warn, info, debug, trace, silent, not "loud"')
  t.equal(refuse({ messageRate: 0 }), 'config tracker.json: "messageRate" must be an integer from 1 to 1000000, not 0')
  t.equal(refuse({ token: { nested: true } }), 'config tracker.json: "token" must be a non-empty string, not {"nested":true}')
  t.end()
})

t.test('every setting has a flag, a variable and a --help line in its section', (t) => {
  const help = buildProgram().helpInformation()
  for (const s of SETTINGS) {
    t.match(help, new RegExp(`--${kebabCase(s.key)} \\S+ +${s.help.slice(0, 20).replace(/[()]/g, '\\$&')}`), `--${kebabCase(s.key)}`)
    t.match(help.replace(/\s+/g, ' '), `env: ${envName(s.key)})`, envName(s.key))
  }
  t.equal(envName('maxContentsPerPeer'), 'SHOAL_TRACKER_MAX_CONTENTS_PER_PEER')
  t.match(help, /^Listening:$/m)
  t.match(help, /^Abuse limits:$/m)
  t.end()
})

t.test('settings become the tracker init: seconds to milliseconds, limits, TLS files', async (t) => {
  const dir = await tempDir(t)
  const settings = await parseSettings(argv('--register-timeout', '0.3', '--ttl', '20', '--message-burst', '9', '--max-contents-per-peer', '4', '--max-indexed-chunks', '99', '--max-chunks-per-peer', '50'))
  const logger = pino({ enabled: false })
  t.match(await trackerInitOf(settings, logger), {
    ttlMs: 20_000, registerTimeoutMs: 300, tls: undefined,
    limits: { messageRate: 1000, messageBurst: 9, maxContentsPerPeer: 4, maxIndexedChunks: 99, maxChunksPerPeer: 50 },
  })
  await writeFile(join(dir, 'cert.pem'), 'CERT')
  await writeFile(join(dir, 'key.pem'), 'KEY')
  const tls: Partial<CliSettings> = { tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') }
  const init = await trackerInitOf({ ...settings, ...tls }, logger)
  t.same([String(init.tls?.cert), String(init.tls?.key)], ['CERT', 'KEY'], 'the files are read')
  await t.rejects(trackerInitOf({ ...settings, tlsKey: tls.tlsKey }, logger), { message: '--tls-cert and --tls-key go together: give both or neither' })
  await t.rejects(trackerInitOf({ ...settings, tlsCert: tls.tlsCert }, logger), { message: '--tls-cert and --tls-key go together: give both or neither' })
  await t.rejects(trackerInitOf({ ...settings, ...tls, tlsKey: join(dir, 'missing.pem') }, logger), { message: /^cannot read --tls-key .*missing\.pem: ENOENT/ })
})

t.test('shoal-tracker --config tracker.yaml runs with what the file says', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'tracker.yaml')
  await writeFile(file, 'host: 127.0.0.1\nport: 0\ndataDir: state\nttl: 25\nregisterTimeout: 0.3\nlogLevel: silent\n')
  const { url } = await startCli(t, ['--config', file])
  const peer = await TestClient.connect(url)
  t.teardown(() => peer.ws.terminate())
  t.match(await peer.register(), { type: 'registered', ttl: 25 }, 'ttl from the file')
  const idle = await TestClient.connect(url)
  t.equal((await idle.closed).code, CloseCode.REGISTER_TIMEOUT, 'registerTimeout from the file closes a silent connection')
  t.ok((await stat(join(dir, 'state'))).isDirectory(), 'dataDir is relative to the file')
})

t.test('shoal-tracker refuses a bad config file at start: one line, exit 1, no stack', async (t) => {
  const dir = await tempDir(t)
  const cases: [string, string, string][] = [
    ['unknown.json', '{"port": 0, "trust_proxy": true}', `shoal-tracker: config ${join(dir, 'unknown.json')}: unknown key "trust_proxy" (did you mean "trustProxy"?)\n`],
    ['bad.yaml', 'port: 0\nmessageBurst: lots\n', `shoal-tracker: config ${join(dir, 'bad.yaml')}: "messageBurst" must be an integer from 1 to 10000000, not "lots"\n`],
  ]
  for (const [name, body, stderr] of cases) {
    await writeFile(join(dir, name), body)
    const exit = await runCli(['--config', join(dir, name), '--data-dir', join(dir, 'data')])
    t.equal(exit.code, 1, name)
    t.equal(exit.stderr, stderr)
  }
})
