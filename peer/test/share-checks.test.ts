import { randomBytes } from 'node:crypto'
import { closeSync, openSync } from 'node:fs'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ErrorCode, MAX_FILES } from '@shoal/protocol'
import { manifestFromPath } from '../src/share/manifest-from-path.js'
import { smallFileSystem, tempDir } from './helpers.js'

/** Builds the manifest of `path`, counting the bytes hashed on the way. */
async function hashedBeforeRefusal(path: string): Promise<{ err: unknown; hashed: number }> {
  let hashed = 0
  const err = await manifestFromPath(path, { onProgress: (bytes) => (hashed = bytes) }).then(() => undefined, (e: unknown) => e)
  return { err, hashed }
}

t.test('a name the protocol forbids is refused before any byte is hashed', async (t) => {
  const dir = await tempDir(t)
  const folder = join(dir, 'notes')
  await mkdir(folder)
  // Sorted first, so an unchecked walk hashes all of it before reaching the bad name.
  await writeFile(join(folder, 'a-big.bin'), randomBytes(3 * 1024 * 1024))
  await writeFile(join(folder, 'z:notes.txt'), 'hello')
  const inFolder = await hashedBeforeRefusal(folder)
  t.match(inFolder.err, { code: ErrorCode.INVALID_ARGUMENT, message: /^cannot share: .*"z:notes\.txt" contains a forbidden character$/ })
  t.equal(inFolder.hashed, 0, 'nothing hashed')

  const single = await hashedBeforeRefusal(join(folder, 'z:notes.txt'))
  t.match(single.err, { code: ErrorCode.INVALID_ARGUMENT, message: /^cannot share: name contains a forbidden character$/ })
  t.equal(single.hashed, 0, 'nothing hashed')
})

t.test('a link in a folder is refused before any byte is hashed', async (t) => {
  const folder = join(await tempDir(t), 'linked')
  await mkdir(folder)
  await writeFile(join(folder, 'a-big.bin'), randomBytes(3 * 1024 * 1024))
  await symlink('a-big.bin', join(folder, 'b-link'))
  const { err, hashed } = await hashedBeforeRefusal(folder)
  t.match(err, { code: ErrorCode.BAD_MANIFEST, message: /b-link is not a regular file or folder \(links and devices are not shared\)$/ })
  t.equal(hashed, 0, 'nothing hashed')
})

t.test('a folder of more than MAX_FILES files is refused by count, even all in one subfolder', async (t) => {
  // Made in a tmpfs where one can be mounted: creating and removing that many files on a disk is slow.
  const tmp = await tempDir(t)
  const dir = (await smallFileSystem(t, tmp, '64m')) ?? tmp
  const folder = join(dir, 'many')
  const sub = join(folder, 'sub')
  await mkdir(sub, { recursive: true })
  // One subfolder big enough that spreading its list into the parent's overflows the stack.
  const count = MAX_FILES + 25_001
  // Synchronous calls: on a tmpfs each is a few microseconds, where the thread pool's round trips add up to seconds.
  for (let i = 0; i < count; i++) closeSync(openSync(join(sub, `f${i}`), 'w'))
  await writeFile(join(folder, 'a.bin'), randomBytes(64 * 1024))
  const { err, hashed } = await hashedBeforeRefusal(folder)
  t.match(err, { code: ErrorCode.INVALID_ARGUMENT, message: new RegExp(`^cannot share: a content holds at most ${MAX_FILES} files; this one has more$`) })
  t.equal(hashed, 0, 'nothing hashed')
})
