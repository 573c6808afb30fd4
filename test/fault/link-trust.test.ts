import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { bytesEqual, formatLink, fromHex } from '@shoal/protocol'
import { startPeer, startTracker, tempDir, waitUntil } from '@shoal/testkit'
import { HostileTracker } from '../lib/fault-hostile-tracker.js'
import { craftManifest } from '../lib/fault-manifest.js'

/** The key a daemon keeps in its data folder, which its own trackers know it by. */
async function ownKey(dataDir: string): Promise<Uint8Array> {
  const identity = JSON.parse(await readFile(join(dataDir, 'identity.json'), 'utf8')) as { key: string }
  return fromHex(identity.key, 16)!
}

t.test('a tracker a link names gets neither the tracker token nor the peer key the daemon\'s own trackers know', async (t) => {
  const own = await startTracker(t, { token: 's3cret' })
  const hostile = await HostileTracker.start(t)
  const peer = await startPeer(t, { trackers: [own.url], trackerToken: 's3cret' })
  const crafted = craftManifest({ name: 'bait.bin', kind: 'file', files: [{ path: 'bait.bin', size: 100 }] })
  hostile.serve(crafted.id, crafted.bytes)
  const dir = await tempDir(t, 'shoal-trust-')
  await peer.api.get(formatLink({ content: crafted.id, trackers: [hostile.url] }), { output: join(dir, 'bait.bin') })
  t.not(hostile.registers.length, 0, 'the daemon registered with the link\'s tracker')
  t.ok(hostile.registers.every((r) => r.token === undefined), 'never with the token')
  const key = await ownKey(peer.dataDir)
  t.ok(hostile.registers.every((r) => !bytesEqual(r.key, key)), 'never with the key its own trackers know')
  t.equal(new Set(hostile.registers.map((r) => Buffer.from(r.key).toString('hex'))).size, 1, 'but with one key of its own, so it can replace its stale sessions there')
  t.match(await own.stats(), { peersOnline: 1 }, 'the daemon\'s own tracker, which wants the token, has it registered')
})

t.test('a content named otherwise than its link says is refused', async (t) => {
  const hostile = await HostileTracker.start(t)
  const peer = await startPeer(t)
  const crafted = craftManifest({ name: 'payload.sh', kind: 'file', files: [{ path: 'payload.sh', size: 100 }] })
  hostile.serve(crafted.id, crafted.bytes)
  const dir = await tempDir(t, 'shoal-trust-')
  const get = await peer.cli(['get', formatLink({ content: crafted.id, trackers: [hostile.url], name: 'ubuntu-24.04.iso' }), '-o', `${dir}/`], dir)
  t.equal(get.code, 1)
  t.match(get.stderr, /^shoal: the link names "ubuntu-24\.04\.iso", but the content is named "payload\.sh"\n$/)
  t.same(await readdir(dir), [], 'nothing was written')
  t.same((await peer.api.status()).contents, [], 'nor taken')
})

t.test('a content with a hidden name is saved only where -o names it in full', async (t) => {
  const hostile = await HostileTracker.start(t)
  const peer = await startPeer(t)
  const crafted = craftManifest({ name: '.ssh', files: [{ path: 'authorized_keys', size: 100 }] })
  hostile.serve(crafted.id, crafted.bytes)
  const home = await tempDir(t, 'shoal-home-')
  const link = formatLink({ content: crafted.id, trackers: [hostile.url] })
  for (const args of [[], ['-o', `${home}/`], ['-o', home]]) {
    const get = await peer.cli(['get', link, ...args], home)
    t.equal(get.code, 1, `get ${args.join(' ')}: refused`)
    t.match(get.stderr, /^shoal: .*"\.ssh", a hidden name; give the whole output path with -o/, 'saying how to save it anyway')
  }
  t.same(await readdir(home), [], 'no .ssh was made')
  const named = await peer.api.get(link, { output: join(home, 'keys-from-a-link') })
  t.match(named, { name: '.ssh', path: join(home, 'keys-from-a-link') }, 'with the whole path given, it is taken')
})

t.test('every tracker a link names is used for the download, not only the one that had the manifest', async (t) => {
  const first = await HostileTracker.start(t)
  const second = await HostileTracker.start(t)
  const peer = await startPeer(t)
  const crafted = craftManifest({ name: 'two.bin', kind: 'file', files: [{ path: 'two.bin', size: 100 }] })
  first.serve(crafted.id, crafted.bytes)
  const dir = await tempDir(t, 'shoal-trust-')
  await peer.api.get(formatLink({ content: crafted.id, trackers: [first.url, second.url] }), { output: join(dir, 'two.bin') })
  const told = await waitUntil(() => second.registers.find((r) => r.contents.some((c) => bytesEqual(c.content, crafted.id))), { what: 'a register naming the content at the second tracker' })
  t.ok(told, 'the second tracker is told of the download')
})

t.test('a tracker answering find with a reply of the wrong type does not stop the daemon', async (t) => {
  const hostile = await HostileTracker.start(t)
  hostile.wrongFindReply = true
  const peer = await startPeer(t)
  const crafted = craftManifest({ name: 'odd.bin', kind: 'file', files: [{ path: 'odd.bin', size: 100 }] })
  hostile.serve(crafted.id, crafted.bytes)
  const dir = await tempDir(t, 'shoal-trust-')
  await peer.api.get(formatLink({ content: crafted.id, trackers: [hostile.url] }), { output: join(dir, 'odd.bin') })
  await waitUntil(() => peer.logs().some((e) => e.msg === 'tracker answered with the wrong reply type'), { what: 'the bad reply logged' })
  t.ok(peer.child.running, 'the daemon still runs')
  t.match(await peer.api.content(crafted.idHex), { state: 'downloading' }, 'and the download waits for sources')
})

t.test('a daemon refuses more trackers than a share link can name, before storing anything', async (t) => {
  const peer = await startPeer(t)
  const dir = await tempDir(t, 'shoal-trust-')
  await writeFile(join(dir, 'f.bin'), 'seventeen trackers')
  const trackers = Array.from({ length: 17 }, (_, i) => ['--tracker', `ws://127.0.0.1:${20_000 + i}`]).flat()
  const share = await peer.cli(['share', join(dir, 'f.bin'), ...trackers])
  t.equal(share.code, 1)
  t.match(share.stderr, /^shoal: .*at most 16 trackers/)
  t.same((await peer.api.status()).contents, [], 'nothing was stored')
  t.equal((await peer.cli(['ls'])).code, 0, 'and ls still works')
})
