import { join } from 'node:path'
import t from 'tap'
import type { Manifest } from '@shoal/protocol'
import { ContentLayout } from '../src/store/layout.js'
import { seeded } from './helpers.js'

function folderManifest(paths: string[]): Manifest {
  return { version: 1, name: 'root', kind: 'directory', chunkSize: 16384, size: paths.length, files: paths.map((path) => ({ path, size: 1 })), chunkHashes: new Uint8Array(0), root: new Uint8Array(32) }
}

/** Every proper ancestor of every path, rebuilt from its segments: the plain definition. */
function naiveFolders(paths: string[]): Set<string> {
  const inside = new Set<string>()
  for (const path of paths) {
    const segments = path.split('/')
    for (let depth = 1; depth < segments.length; depth++) inside.add(segments.slice(0, depth).join('/'))
  }
  return inside
}

t.test('folders: every ancestor of every file, deepest first, the root last', async (t) => {
  const layout = new ContentLayout(folderManifest(['a/b/c.txt', 'a/b/d.txt', 'a/e.txt', 'f.txt', 'g/h/i/j.txt']), '/out/root')
  const folders = layout.folders()
  t.equal(folders.at(-1), '/out/root')
  t.same(new Set(folders.slice(0, -1)), new Set(['a/b', 'a', 'g/h/i', 'g/h', 'g'].map((p) => join('/out/root', p))))
  for (let i = 1; i < folders.length; i++) t.ok(folders[i - 1].length >= folders[i].length, `${folders[i - 1]} comes before ${folders[i]}`)
  t.same(new ContentLayout({ ...folderManifest(['x']), kind: 'file' }, '/out/x').folders(), [], 'a single file has no folders')
})

t.test('folders agree with the plain definition on random trees that share prefixes', async (t) => {
  const random = seeded(11)
  const names = ['a', 'b', 'ab', 'a.b', 'a-b', 'z']
  for (let round = 0; round < 200; round++) {
    const paths = new Set<string>()
    const count = 1 + Math.floor(random() * 12)
    while (paths.size < count) {
      const depth = 1 + Math.floor(random() * 6)
      paths.add(Array.from({ length: depth }, () => names[Math.floor(random() * names.length)]).join('/'))
    }
    // A path that is also another's folder would not be a valid manifest; keep only leaves.
    const leaves = [...paths].filter((p) => ![...paths].some((q) => q.startsWith(`${p}/`)))
    const got = new ContentLayout(folderManifest(leaves), 'r').folders()
    const want = [...naiveFolders(leaves)].map((p) => join('r', p))
    if (!t.same(new Set(got.slice(0, -1)), new Set(want), `round ${round}`) || got.length !== want.length + 1) {
      t.fail(`round ${round}: ${JSON.stringify(leaves)} gave ${JSON.stringify(got)}`)
      break
    }
  }
})
