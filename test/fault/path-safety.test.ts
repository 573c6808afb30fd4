import { mkdir, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import t from 'tap'
import { ErrorCode, formatLink } from '@shoal/protocol'
import type { ManifestFile } from '@shoal/protocol'
import { startPeer, startTracker, tempDir } from '@shoal/testkit'
import { HostileTracker } from '../lib/fault-hostile-tracker.js'
import { craftManifest } from '../lib/fault-manifest.js'
import { RawTrackerClient } from '../lib/fault-tracker-client.js'

/** Every path under `root`, folders with a trailing slash. */
async function listing(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name)
      out.push(relative(root, full) + (entry.isDirectory() ? '/' : ''))
      if (entry.isDirectory()) await walk(full)
    }
  }
  await walk(root)
  return out.sort()
}

const file = (path: string, size = 100): ManifestFile => ({ path, size })

/** Manifests that break one path rule each, otherwise well formed (canonical bytes, right hashes). */
function hostileManifests(outside: string): { why: string; name: string; kind?: 'file' | 'directory'; files: ManifestFile[] }[] {
  return [
    { why: 'a file named ../x', name: 'evil', files: [file('../x')] },
    { why: 'a path climbing out through .. segments', name: 'evil', files: [file('a/../../x')] },
    { why: 'an absolute path', name: 'evil', files: [file(join(outside, 'abs.txt'))] },
    { why: 'a NUL byte in a name', name: 'evil', files: [file('a\u0000b')] },
    { why: 'the same name twice', name: 'evil', files: [file('twice'), file('twice')] },
    { why: 'a name that is also a folder', name: 'evil', files: [file('a'), file('a/b')] },
    { why: 'backslashes (a path on Windows)', name: 'evil', files: [file('a\\..\\..\\x')] },
    { why: 'an empty segment', name: 'evil', files: [file('a//b')] },
    { why: 'a content named ..', name: '..', files: [file('x')] },
    { why: 'a single file named ../x', name: '../x', kind: 'file', files: [file('../x')] },
  ]
}

t.test('directory manifests with unsafe paths: the tracker refuses to publish them', async (t) => {
  const tracker = await startTracker(t)
  const client = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => client.terminate())
  await client.register([])
  for (const m of hostileManifests('/tmp')) {
    const crafted = craftManifest({ ...m, seed: m.why })
    const reply = await client.request({ type: 'publish', manifest: crafted.bytes })
    t.equal(reply.type === 'error' && reply.code, ErrorCode.BAD_MANIFEST, m.why)
  }
  t.equal((await tracker.stats()).manifests, 0, 'none was stored')
})

t.test('directory manifests with unsafe paths: `shoal get` refuses them before anything touches the disk', async (t) => {
  // A compromised tracker serves them as they are; the manifest still matches its content id.
  const hostile = await HostileTracker.start(t)
  const peer = await startPeer(t)
  const dir = await tempDir(t, 'shoal-paths-')
  const out = join(dir, 'inside', 'out')
  await mkdir(out, { recursive: true })
  const before = await listing(dir)
  for (const m of hostileManifests(join(dir, 'outside'))) {
    const crafted = craftManifest({ ...m, seed: m.why })
    hostile.serve(crafted.id, crafted.bytes)
    const link = formatLink({ content: crafted.id, trackers: [hostile.url] })
    const get = await peer.cli(['get', link, '-o', `${out}/`])
    t.equal(get.code, 1, `${m.why}: refused`)
    t.match(get.stderr, /^shoal: .*(name|path|segment|file)[^\n]*\n$/, `${m.why}: one line saying why (${get.stderr.trim()})`)
    t.same(await listing(dir), before, `${m.why}: nothing was written inside or outside the output folder`)
  }
  const status = await peer.api.status()
  t.same(status.contents, [], 'the daemon took none of them')
})

t.test('a refused name is never echoed raw: no control characters reach the terminal', async (t) => {
  const hostile = await HostileTracker.start(t)
  const peer = await startPeer(t)
  const dir = await tempDir(t, 'shoal-paths-')
  // An escape sequence that retitles the terminal, a bell and a NUL.
  const crafted = craftManifest({ name: 'evil', files: [file('x\u001b]0;owned\u0007\u0000')] })
  hostile.serve(crafted.id, crafted.bytes)
  const get = await peer.cli(['get', formatLink({ content: crafted.id, trackers: [hostile.url] }), '-o', `${dir}/`])
  t.equal(get.code, 1, 'refused')
  t.match(get.stderr, /^shoal: .*(name|path|segment|file)[^\n]*\n$/, `one line saying why: ${JSON.stringify(get.stderr)}`)
  t.notMatch(get.stderr, /[\u0000-\u0009\u000b-\u001f\u007f]/, `the error line carries no raw control character: ${JSON.stringify(get.stderr)}`)
  t.same((await peer.api.status()).contents, [], 'the daemon took none of it')
})
