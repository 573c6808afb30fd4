import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Bitfield, toHex } from '@shoal/protocol'
import { randomFile, sha256File, startPeer, tempDir } from '@shoal/testkit'
import { startNginx } from '../lib/ops-nginx.js'
import { daemonLog, spawnTracker } from '../lib/ops-processes.js'
import { skipUnless } from '../lib/ops-programs.js'
import { RawPeer } from '../lib/ops-raw-peer.js'
import { httpsGet, makeCertificates } from '../lib/ops-tls.js'
import type { TestCertificates } from '../lib/ops-tls.js'
import { FAST, isDone, waitContent } from '../lib/swarm.js'

const skip = skipUnless({ nginx: 'nginx-light', openssl: 'openssl' })

/** A tracker (with or without --trust-proxy) behind nginx running the shipped site, TLS with the test CA. */
async function trackerBehindNginx(t: Test, certs: TestCertificates, trustProxy: boolean) {
  const dir = await tempDir(t, 'shoal-nginx-')
  const flags = ['--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'warn']
  const tracker = await spawnTracker(t, trustProxy ? [...flags, '--trust-proxy'] : flags)
  const ca = await readFile(certs.ca, 'utf8')
  const nginx = await startNginx(t, dir, {
    serverName: 'localhost', certificate: certs.cert, certificateKey: certs.key, upstreamPort: Number(new URL(tracker.url).port),
  }, async (url) => (await httpsGet(`${url}/healthz`, ca)).status === 200)
  const stats = async () => JSON.parse((await httpsGet(`${nginx.httpsUrl}/stats`, ca)).body) as { peersOnline: number; contents: number; manifests: number }
  return { tracker, nginx, ca, stats, wssUrl: nginx.httpsUrl.replace(/^https/, 'wss') }
}

t.test('the tracker behind nginx terminating TLS', { skip }, async (t) => {
  const certs = await makeCertificates(await tempDir(t, 'shoal-certs-'))

  t.test('peer daemons use the tracker over wss:// and fetch from each other', async (t) => {
    const { wssUrl, stats } = await trackerBehindNginx(t, certs, true)
    // The daemons trust the private CA through SHOAL_CA (--ca), as the testkit passes them this process's environment.
    process.env.SHOAL_CA = certs.ca
    t.teardown(() => delete process.env.SHOAL_CA)
    const seeder = await startPeer(t, { trackers: [wssUrl], tuning: FAST })
    const registered = await daemonLog(seeder.child, 'registered with tracker', 'seeder registers over wss')
    t.match(registered, { tracker: wssUrl, address: '127.0.0.1' }, 'registered through nginx')
    t.equal((await stats()).peersOnline, 1, '/stats over https through nginx counts it')

    const dir = await tempDir(t, 'shoal-files-')
    const hash = await randomFile(join(dir, 'payload.bin'), 1024 * 1024)
    const share = await seeder.cli(['share', join(dir, 'payload.bin'), '--json', '--chunk-size', '256K'])
    t.equal(share.code, 0, `shoal share: ${share.stderr}`)
    const shared = JSON.parse(share.stdout) as { id: string; link: string }
    const leecher = await startPeer(t, { trackers: [wssUrl], tuning: FAST })
    await leecher.api.get(shared.link, { output: join(dir, 'copy.bin') })
    await waitContent(leecher, shared.id, isDone, 'download through the wss tracker', 20_000)
    t.equal(await sha256File(join(dir, 'copy.bin')), hash, 'the copy is right')
    t.match(await stats(), { peersOnline: 2, contents: 1, manifests: 1 }, 'both peers and the content show in /stats')

    delete process.env.SHOAL_CA
    const untrusting = await startPeer(t, { trackers: [wssUrl], tuning: FAST })
    const lost = await daemonLog(untrusting.child, 'tracker connection lost', 'a daemon without the CA is refused')
    t.match(lost.reason, /certificate/, `without the CA the certificate is refused: ${String(lost.reason)}`)
  })

  t.test('with --trust-proxy the tracker records the real addresses nginx saw', async (t) => {
    const { wssUrl, ca, nginx } = await trackerBehindNginx(t, certs, true)
    const redirect = await fetch(`http://127.0.0.1:${nginx.httpPort}/stats`, { redirect: 'manual' })
    t.match([redirect.status, redirect.headers.get('location')], [301, 'https://127.0.0.1/stats'], 'plain http redirects to https')
    const content = new Uint8Array(32).fill(7)
    const chunkCount = 8
    // All of 127.0.0.0/8 is loopback: 127.0.0.2 stands for a peer on another machine. The
    // X-Forwarded-For it sends itself must not count: nginx overwrites the header.
    const holder = await RawPeer.connect(t, wssUrl, { ca, localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '127.0.0.66' } })
    const held = await holder.register(6881, [{ content, chunkCount, bitfield: Bitfield.full(chunkCount).bytes }])
    t.equal(held.address, '127.0.0.2', 'registered.address is the peer\'s own')
    const asker = await RawPeer.connect(t, wssUrl, { ca, localAddress: '127.0.0.3' })
    t.equal((await asker.register(6882)).address, '127.0.0.3', 'and so is the asker\'s')
    const sources = await asker.request({ type: 'find', content, wanted: Bitfield.full(chunkCount).bytes, max: 0, chunks: true })
    t.match(sources, { type: 'sources', peers: [{ host: '127.0.0.2', port: 6881 }] }, 'find hands out the real address')
    t.equal(sources.type === 'sources' && toHex(sources.peers[0].peerId), toHex(holder.peerId), 'that source is the holder')
  })

  t.test('without --trust-proxy every peer seems to be nginx', async (t) => {
    const { wssUrl, ca } = await trackerBehindNginx(t, certs, false)
    const peer = await RawPeer.connect(t, wssUrl, { ca, localAddress: '127.0.0.2' })
    t.equal((await peer.register(6881)).address, '127.0.0.1', 'the tracker sees nginx\'s address, not 127.0.0.2')
  })
})
