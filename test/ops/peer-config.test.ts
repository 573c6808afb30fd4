import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ChildNode, runShoal, SHOAL_CLI, startTracker, tempDir } from '@shoal/testkit'
import { daemonLog } from '../lib/ops-processes.js'

/** The environment of someone who has set no Shoal variable. */
const NO_SHOAL_VARIABLES: Record<string, undefined> = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('SHOAL_')).map((k) => [k, undefined]))

t.test('shoal daemon --config FILE: a daemon set up by its config file alone', async (t) => {
  const tracker = await startTracker(t, { token: 'from-the-file' })
  const dir = await tempDir(t, 'shoal-config-')
  const file = join(dir, 'peer.json')
  await writeFile(file, JSON.stringify({
    tracker: [tracker.url], trackerToken: 'from-the-file', dataDir: 'state', host: '127.0.0.1', port: 0,
    uploadLimit: '2M', downloadLimit: 0, maxUploads: 4, logLevel: 'info',
  }, null, 2))
  const child = new ChildNode(SHOAL_CLI, ['daemon', '--config', file], { ...NO_SHOAL_VARIABLES, UV_USE_IO_URING: '0' })
  t.teardown(() => child.kill())
  const ready = await daemonLog(child, 'daemon ready', 'daemon start')
  t.equal(ready.dataDir, join(dir, 'state'), 'dataDir, relative to the file')
  t.same(ready.trackers, [tracker.url], 'its tracker')
  t.match(await daemonLog(child, 'registered with tracker', 'daemon registers'), { tracker: tracker.url }, 'registered, so the token was sent')
  const status = await runShoal(['status', '--json'], { dataDir: join(dir, 'state') })
  t.match(JSON.parse(status.stdout), { trackers: [{ url: tracker.url, state: 'registered' }] }, 'shoal status finds it in that data folder')
  t.equal(await child.kill('SIGTERM'), 0, 'stops cleanly')

  await writeFile(join(dir, 'typo.yaml'), `tracker: ${tracker.url}\nuploadlimit: 2M\n`)
  const typo = await runShoal(['daemon', '--config', join(dir, 'typo.yaml')])
  t.equal(typo.code, 1, 'an unknown key stops it at start')
  t.equal(typo.stderr, `shoal: config ${join(dir, 'typo.yaml')}: unknown key "uploadlimit" (keys are the daemon's flags in camelCase, e.g. uploadLimit)\n`)
})
