import t from 'tap'
import { ErrorCode } from '../src/errors.js'
import { sha256 } from '../src/hash.js'
import { MAX_FILES, MIN_CHUNK_SIZE } from '../src/limits.js'
import { MANIFEST_VERSION, validateManifest } from '../src/manifest.js'
import type { ManifestFile } from '../src/manifest.js'
import { ManifestBuilder } from '../src/manifest-builder.js'

const { BAD_MANIFEST } = ErrorCode

/** `count` empty files with distinct names, in canonical order. */
function emptyFiles(count: number): ManifestFile[] {
  return Array.from({ length: count }, (_, i) => ({ path: `f${String(i).padStart(6, '0')}`, size: 0 }))
}

t.test('the builder refuses a bad name, path or file count when it is made, before any byte is fed', (t) => {
  const cases: [string, ConstructorParameters<typeof ManifestBuilder>[0], RegExp][] = [
    ['a colon in a folder\'s file', { name: 'notes', kind: 'directory', files: [{ path: 'a.txt', size: 5 }, { path: 'z:notes.txt', size: 5 }] }, /"z:notes\.txt" contains a forbidden character/],
    ['a colon in a single file\'s name', { name: 'z:notes.txt', kind: 'file', files: [{ path: 'z:notes.txt', size: 5 }] }, /name contains a forbidden character/],
    ['a folder named ".."', { name: '..', kind: 'directory', files: [{ path: 'a', size: 1 }] }, /name may not be "\." or "\.\."/],
    ['a path climbing out', { name: 'd', kind: 'directory', files: [{ path: 'a/../../b', size: 1 }] }, /may not be "\." or "\.\."/],
    ['a path listed twice', { name: 'd', kind: 'directory', files: [{ path: 'a', size: 1 }, { path: 'a', size: 2 }] }, /unique/],
    ['a path both file and folder', { name: 'd', kind: 'directory', files: [{ path: 'a', size: 1 }, { path: 'a/b', size: 2 }] }, /both a file and a directory/],
    ['a single file named unlike the content', { name: 'f', kind: 'file', files: [{ path: 'g', size: 1 }] }, /exactly one file, named like the content/],
    ['MAX_FILES + 1 files', { name: 'd', kind: 'directory', files: emptyFiles(MAX_FILES + 1) }, new RegExp(`at most ${MAX_FILES} files`)],
  ]
  for (const [what, init, message] of cases) t.throws(() => new ManifestBuilder(init), { code: BAD_MANIFEST, message }, what)
  const most = new ManifestBuilder({ name: 'd', kind: 'directory', files: emptyFiles(MAX_FILES).reverse() })
  t.equal(most.finish().files.length, MAX_FILES, 'MAX_FILES files are built, given in any order')
  t.end()
})

t.test('validateManifest refuses more than MAX_FILES files, however the manifest was made', (t) => {
  const manifest = (count: number) => ({
    version: MANIFEST_VERSION, name: 'd', kind: 'directory' as const, chunkSize: MIN_CHUNK_SIZE, size: 0,
    files: emptyFiles(count), chunkHashes: new Uint8Array(0), root: sha256(),
  })
  t.throws(() => validateManifest(manifest(MAX_FILES + 1)), { code: BAD_MANIFEST, message: new RegExp(`at most ${MAX_FILES} files`) })
  t.doesNotThrow(() => validateManifest(manifest(MAX_FILES)))
  t.end()
})
