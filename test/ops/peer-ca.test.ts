import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { ChildNode, runShoal, SHOAL_CLI, tempDir } from '@shoal/testkit'
import { daemonLog, spawnTracker } from '../lib/ops-processes.js'
import { skipUnless } from '../lib/ops-programs.js'
import { makeCertificates } from '../lib/ops-tls.js'

const skip = skipUnless({ openssl: 'openssl' })

/** `shoal daemon` on loopback with `extra` flags, and no CA from the environment. */
function daemon(t: Test, dataDir: string, tracker: string, extra: string[]): ChildNode {
  const args = ['daemon', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--tracker', tracker, '--reconnect-initial-ms', '100', '--reconnect-max-ms', '500', ...extra]
  const child = new ChildNode(SHOAL_CLI, args, { UV_USE_IO_URING: '0', NODE_EXTRA_CA_CERTS: undefined, SHOAL_CA: undefined })
  t.teardown(() => child.kill())
  return child
}

t.test('a wss:// tracker whose certificate a private CA signed', { skip }, async (t) => {
  const dir = await tempDir(t, 'shoal-ca-')
  const certs = await makeCertificates(dir)
  const tracker = await spawnTracker(t, ['--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'tracker'), '--log-level', 'warn', '--tls-cert', certs.cert, '--tls-key', certs.key])
  t.match(tracker.url, /^wss:\/\/127\.0\.0\.1:\d+$/, 'the tracker serves wss:// itself')
  const stats = async (): Promise<{ peersOnline: number; totals: { register: number } }> => {
    const r = await runShoal(['stats', tracker.url, '--ca', certs.ca, '--json'])
    t.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as { peersOnline: number; totals: { register: number } }
  }

  t.test('shoal daemon --ca registers with it', async (t) => {
    const trusting = daemon(t, join(dir, 'trusting'), tracker.url, ['--ca', certs.ca])
    const registered = await daemonLog(trusting, 'registered with tracker', 'the daemon with --ca registers')
    t.match(registered, { tracker: tracker.url, address: '127.0.0.1' })
    const status = await runShoal(['status', '--json'], { dataDir: join(dir, 'trusting') })
    t.match(JSON.parse(status.stdout), { trackers: [{ url: tracker.url, state: 'registered' }] }, 'shoal status says registered')
    t.match(await stats(), { peersOnline: 1, totals: { register: 1 } }, 'the tracker counts it (shoal stats --ca over https)')
    const viaVariable = await runShoal(['stats', tracker.url], { env: { SHOAL_CA: certs.ca } })
    t.match(viaVariable.stdout, /^tracker {9}https:\/\/127\.0\.0\.1:\d+\/\npeers online {4}1\n/, 'shoal stats takes the CA from SHOAL_CA too')
  })

  t.test('without --ca the certificate is refused and the daemon never registers', async (t) => {
    const registersBefore = (await stats()).totals.register
    const untrusting = daemon(t, join(dir, 'untrusting'), tracker.url, [])
    const lost = await daemonLog(untrusting, 'tracker connection lost', 'the daemon without --ca fails to connect')
    t.match(lost.reason, /certificate/, `the TLS handshake fails: ${String(lost.reason)}`)
    t.equal(lost.level, 40, 'logged as a warning: retrying will not fix it')
    const status = await runShoal(['status', '--json'], { dataDir: join(dir, 'untrusting') })
    const [state] = (JSON.parse(status.stdout) as { trackers: { state: string; error?: string }[] }).trackers
    t.not(state.state, 'registered', `shoal status shows it unregistered (${state.state})`)
    t.match(state.error, /certificate/, 'with the reason')
    t.equal(untrusting.lines.filter((l) => l.includes('"registered with tracker"')).length, 0, 'no register in its log')
    t.match(await stats(), { peersOnline: 0, totals: { register: registersBefore } }, 'the tracker never saw it register')
    const untrusted = await runShoal(['stats', tracker.url])
    t.equal(untrusted.code, 1)
    t.match(untrusted.stderr, /^shoal: cannot reach the tracker at https:\/\/127\.0\.0\.1:\d+\/: .*certificate.* \(a private CA\? give it with --ca\)\n$/, 'shoal stats without --ca says what to do')
  })

  t.test('a --ca that is not a certificate stops the daemon at start', async (t) => {
    await writeFile(join(dir, 'not-a-ca.pem'), certs.key)
    const cases: [string, RegExp][] = [
      [join(dir, 'not-a-ca.pem'), /^shoal: --ca \(SHOAL_CA, "ca" in a config file\): no PEM certificate in it \(-----BEGIN CERTIFICATE-----\)\n$/],
      [join(dir, 'missing.pem'), /^shoal: cannot read --ca .*missing\.pem: ENOENT: no such file or directory, open '.*missing\.pem'\n$/],
    ]
    for (const [file, stderr] of cases) {
      const r = await runShoal(['daemon', '--data-dir', join(dir, 'bad-ca'), '--host', '127.0.0.1', '--port', '0', '--ca', file])
      t.equal(r.code, 1, file)
      t.match(r.stderr, stderr)
    }
  })
})
