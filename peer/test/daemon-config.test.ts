import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Command, Option } from 'commander'
import t from 'tap'
import { daemonCommand, settingsOf } from '../src/cli/daemon-command.js'
import type { DaemonOptions } from '../src/cli/daemon-command.js'
import { tempDir } from './helpers.js'

/**
 * The daemon's options as `shoal daemon <argv>` with `env` set would see them, config file
 * applied, without starting it. Rejects with the error the command would print.
 */
async function settings(argv: string[], env: Record<string, string> = {}): Promise<DaemonOptions & { dataDir: string }> {
  const program = new Command('shoal').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .addOption(new Option('--data-dir <path>').env('SHOAL_DATA_DIR').default('/default/data'))
  const cmd = daemonCommand().exitOverride().configureOutput({ writeErr: () => undefined })
  let got: DaemonOptions | undefined
  program.addCommand(cmd.action(async (_o: unknown, self: Command) => {
    got = await settingsOf(self)
  }))
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    await program.parseAsync(['daemon', ...argv], { from: 'user' })
  } finally {
    for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
  return { ...got!, dataDir: program.opts<{ dataDir: string }>().dataDir }
}

async function configFile(t: Parameters<typeof tempDir>[0], name: string, body: string): Promise<string> {
  const file = join(await tempDir(t), name)
  await writeFile(file, body)
  return file
}

t.test('defaults, with nothing given', async (t) => {
  t.match(await settings([]), { tracker: [], host: '0.0.0.0', port: 7071, uploadLimit: 0, downloadLimit: 0, maxUploads: 8, logLevel: 'info', dataDir: '/default/data' })
})

t.test('every option has its variable: SHOAL_ and the flag in upper snake case', async (t) => {
  const o = await settings([], {
    SHOAL_TRACKER: 'ws://a.example:7070, wss://b.example  ws://c.example', SHOAL_TRACKER_TOKEN: 'secret', SHOAL_CA: '/etc/ca.pem',
    SHOAL_HOST: '127.0.0.1', SHOAL_PORT: '0', SHOAL_UPLOAD_LIMIT: '2M', SHOAL_DOWNLOAD_LIMIT: '512K', SHOAL_MAX_UPLOADS: '3',
    SHOAL_LOG_LEVEL: 'debug', SHOAL_DATA_DIR: '/var/lib/shoal', SHOAL_FIND_INTERVAL_MS: '200',
  })
  t.match(o, {
    tracker: ['ws://a.example:7070', 'wss://b.example', 'ws://c.example'], trackerToken: 'secret', ca: '/etc/ca.pem', host: '127.0.0.1', port: 0,
    uploadLimit: 2 * 1024 * 1024, downloadLimit: 512 * 1024, maxUploads: 3, logLevel: 'debug', dataDir: '/var/lib/shoal', findIntervalMs: 200,
  })
})

t.test('a flag beats its variable, which beats the config file, which beats the default', async (t) => {
  const file = await configFile(t, 'peer.json', JSON.stringify({ port: 1111, uploadLimit: '1M', downloadLimit: 4096, maxUploads: 2, tracker: 'ws://file.example' }))
  const o = await settings(['--config', file, '--port', '3333'], { SHOAL_PORT: '2222', SHOAL_UPLOAD_LIMIT: '2M' })
  t.equal(o.port, 3333, 'flag over variable and file')
  t.equal(o.uploadLimit, 2 * 1024 * 1024, 'variable over file')
  t.equal(o.downloadLimit, 4096, 'file over default')
  t.equal(o.maxUploads, 2)
  t.same(o.tracker, ['ws://file.example'], 'one tracker as a string')
  t.equal(o.logLevel, 'info', 'default where nothing says otherwise')
  const flagTrackers = await settings(['--config', file, '--tracker', 'ws://x.example', '--tracker', 'ws://y.example'])
  t.same(flagTrackers.tracker, ['ws://x.example', 'ws://y.example'], 'repeated flags replace the file\'s list')
  const fromEnvFile = await settings([], { SHOAL_CONFIG: file })
  t.equal(fromEnvFile.port, 1111, 'SHOAL_CONFIG names the file too')
})

t.test('YAML, lists, and paths relative to the file', async (t) => {
  const file = await configFile(t, 'peer.yaml', [
    '# a peer on a small VPS',
    'tracker:',
    '  - wss://tracker.example',
    '  - ws://10.0.0.1:7070',
    'dataDir: state',
    'ca: /etc/shoal/ca.pem',
    'host: 127.0.0.1',
    'logLevel: warn',
    'trackerToken: 12345',
    '',
  ].join('\n'))
  const o = await settings(['--config', file])
  t.same(o.tracker, ['wss://tracker.example', 'ws://10.0.0.1:7070'])
  t.equal(o.dataDir, join(file, '..', 'state'), 'dataDir relative to the file')
  t.equal(o.ca, '/etc/shoal/ca.pem', 'absolute paths stay')
  t.equal(o.trackerToken, '12345', 'a number where text is expected is its digits')
  t.equal(o.logLevel, 'warn')
  t.equal((await settings(['--config', file], { SHOAL_DATA_DIR: '/elsewhere' })).dataDir, '/elsewhere', 'SHOAL_DATA_DIR beats the file')
  t.equal((await settings(['--config', await configFile(t, 'empty.yml', '')])).port, 7071, 'an empty YAML file sets nothing')
})

t.test('unknown keys and bad values are refused with the key named', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['a.json', '{"uploadlimit": "1M"}', /^config .*a\.json: unknown key "uploadlimit" \(keys are the daemon's flags in camelCase, e.g\. uploadLimit\)$/],
    ['b.json', '{"port": "http"}', /^config .*b\.json: "port": expected a whole number, not "http"$/],
    ['c.json', '{"uploadLimit": "fast"}', /"uploadLimit": expected a number of bytes .*, not "fast"$/],
    ['d.json', '{"logLevel": "loud"}', /"logLevel": Allowed choices are fatal, error, warn, info, debug, trace, not "loud"$/],
    ['e.json', '{"host": ""}', /"host": expected a non-empty string or a number, not ""$/],
    ['f.json', '{"tracker": [1, {}]}', /"tracker": expected a non-empty string or a non-empty list of them, not \[1,\{\}\]$/],
    ['g.json', '{"port": true}', /"port": expected a non-empty string or a number, not true$/],
    ['h.json', '{"config": "other.json"}', /unknown key "config"/],
    ['i.json', '[1, 2]', /i\.json: must be a mapping of option names to values$/],
    ['j.json', '{"port": 1,', /j\.json: .*JSON/],
    ['k.yaml', 'port: [1\n', /^config .*k\.yaml: [^\n]*\d$/],
    ['l.toml', 'port = 1', /l\.toml: the name must end in \.json, \.yaml or \.yml$/],
    ['m.json', '{"tracker": []}', /"tracker": expected a non-empty string or a non-empty list of them, not \[\]$/],
  ]
  for (const [name, body, message] of cases) {
    await t.rejects(settings(['--config', await configFile(t, name, body)]), { message }, `${name}: ${body}`)
  }
  await t.rejects(settings(['--config', '/no/such/peer.json']), { message: /^config \/no\/such\/peer\.json: ENOENT/ }, 'a missing file')
  await t.rejects(settings([], { SHOAL_PORT: 'x' }), { message: /--port <port>.*from env 'SHOAL_PORT' is invalid/ }, 'a bad variable names itself')
})
