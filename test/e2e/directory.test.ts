import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import t from 'tap'
import { randomFile, sha256File, startPeer, startTracker, tempDir } from '@shoal/testkit'
import { FAST, isDone, waitContent } from '../lib/swarm.js'

async function tree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name)
      if (entry.isDirectory()) await walk(full)
      else out.set(relative(root, full), await sha256File(full))
    }
  }
  await walk(root)
  return out
}

t.test('a directory is shared and fetched file for file', async (t) => {
  const tracker = await startTracker(t)
  const a = await startPeer(t, { trackers: [tracker.url], tuning: FAST })
  const b = await startPeer(t, { trackers: [tracker.url], tuning: FAST })
  const dir = await tempDir(t)
  const src = join(dir, 'album')
  await randomFile(join(src, 'big.bin'), 3 * 1024 * 1024 + 17)
  await randomFile(join(src, 'notes', 'a.txt'), 1000)
  await randomFile(join(src, 'notes', 'deep', 'b.txt'), 300_000)
  await mkdir(join(src, 'notes', 'deep'), { recursive: true })
  await writeFile(join(src, 'empty'), '')
  const share = await a.cli(['share', src, '--json', '--chunk-size', '64K'])
  t.equal(share.code, 0, share.stderr)
  const shared = JSON.parse(share.stdout)
  t.equal(shared.name, 'album')
  const get = await b.cli(['get', shared.link, '-o', join(dir, 'fetched') + '/'])
  t.equal(get.code, 0, get.stderr)
  t.match(get.stdout, /^done: .*fetched\/album/)
  await waitContent(b, shared.id, isDone, 'B complete')
  t.same(await tree(join(dir, 'fetched', 'album')), await tree(src))
})
