import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { ErrorCode } from '@shoal/protocol'
import { createTracker } from '../src/index.js'
import { createTestTracker } from '../src/testing.js'
import { makeTestPki, NO_OPENSSL } from './lib/certificates.js'
import { runCli, startCli } from './lib/cli-process.js'
import { TestClient } from './lib/client.js'
import { httpsGet } from './lib/https-get.js'
import { tempDir } from './lib/temp-dir.js'

/** One throwaway CA and server certificate for every test here. */
const pki = NO_OPENSSL === false ? await makeTestPki(await tempDir(t)) : undefined

t.test('with a certificate the tracker serves wss:// and https:// on one port', { skip: NO_OPENSSL }, async (t) => {
  const { cert, key, ca } = pki!
  const tracker = await createTestTracker(t, { tls: { cert, key } })
  t.match(tracker.url, /^wss:\/\/127\.0\.0\.1:\d+$/)
  t.equal(tracker.httpUrl, tracker.url.replace('wss:', 'https:'))

  const peer = await TestClient.connect(tracker.url, { ca: ca })
  t.teardown(() => peer.ws.terminate())
  t.match(await peer.register(), { type: 'registered', address: '127.0.0.1' }, 'a peer registers over wss://')
  const stats = await httpsGet(`${tracker.httpUrl}/stats`, ca)
  t.equal(stats.status, 200)
  t.match(JSON.parse(stats.body), { peersOnline: 1, connections: 1 }, '/stats over https:// sees it')
  t.match((await httpsGet(`${tracker.httpUrl}/`, ca)).body, /<title>Shoal tracker<\/title>/, 'and the dashboard')

  await t.rejects(TestClient.connect(tracker.url), /unable to verify/, 'a client that does not trust the CA is refused')
  await t.rejects(TestClient.connect(tracker.url.replace('wss:', 'ws:')), 'plain ws:// gets no WebSocket')
  t.match(JSON.parse((await httpsGet(`${tracker.httpUrl}/stats`, ca)).body), { peersOnline: 1 }, 'and neither disturbs the tracker')
})

t.test('a connection that never starts its TLS handshake is cut after the register timeout', { skip: NO_OPENSSL }, async (t) => {
  const { cert, key } = pki!
  const tracker = await createTestTracker(t, { tls: { cert, key }, registerTimeoutMs: 200 })
  const socket = connect(tracker.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await once(socket, 'connect')
  const opened = performance.now()
  socket.resume()
  await once(socket, 'close')
  t.ok(performance.now() - opened >= 150, 'not before the timeout')
})

t.test('an unusable certificate or key is refused at construction, naming tls', { skip: NO_OPENSSL }, (t) => {
  const { cert, key } = pki!
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  t.throws(() => createTracker({ tls: { cert, key: otherKey } }), { code: ErrorCode.INVALID_ARGUMENT, message: /^tls: the certificate and key are not usable together: .*mismatch/ })
  const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  t.throws(() => createTracker({ tls: { cert, key: rsaKey } }), { code: ErrorCode.INVALID_ARGUMENT, message: /^tls: the certificate and key are not usable together: .*mismatch/ }, 'a key of another type too')
  t.throws(() => createTracker({ tls: { cert: 'not pem', key } }), { code: ErrorCode.INVALID_ARGUMENT, message: /^tls: / })
  t.throws(() => createTracker({ tls: { cert, key: '' } }), { code: ErrorCode.INVALID_ARGUMENT, message: /^tls\.key: must be PEM text/ })
  t.throws(() => createTracker({ tls: { cert: 5 as unknown as string, key } }), { message: /^tls\.cert: / })
  t.end()
})

t.test('shoal-tracker --tls-cert --tls-key prints wss:// and https:// URLs and serves them', { skip: NO_OPENSSL }, async (t) => {
  const dir = await tempDir(t)
  const { certFile, keyFile, ca } = pki!
  const { url, statsUrl } = await startCli(t, ['--host', '127.0.0.1', '--port', '0', '--data-dir', `${dir}/data`, '--log-level', 'silent', '--tls-cert', certFile], { SHOAL_TRACKER_TLS_KEY: keyFile })
  t.match(url, /^wss:\/\/127\.0\.0\.1:\d+$/)
  t.equal(statsUrl, `${url.replace('wss:', 'https:')}/stats`)
  const peer = await TestClient.connect(url, { ca })
  t.teardown(() => peer.ws.terminate())
  await peer.register()
  t.match(JSON.parse((await httpsGet(statsUrl, ca)).body), { peersOnline: 1 })
})

t.test('the CLI refuses --tls-cert without --tls-key in one line', async (t) => {
  const exit = await runCli(['--port', '0', '--tls-cert', 'cert.pem'])
  t.equal(exit.code, 1)
  t.equal(exit.stderr, 'shoal-tracker: --tls-cert and --tls-key go together: give both or neither\n')
})
