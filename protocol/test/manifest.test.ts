import t from 'tap'
import type { Test } from 'tap'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ErrorCode, ShoalError } from '../src/errors.js'
import { sha256 } from '../src/hash.js'
import { HASH_BYTES, MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_FILES, MAX_MANIFEST_BYTES, MIN_CHUNK_SIZE } from '../src/limits.js'
import {
  chooseChunkSize, chunkCountOf, chunkHash, chunkRange, chunkSpans, contentIdOf, decodeManifest, encodeManifest,
  isValidChunkSize, manifestChunkCount, validateManifest,
} from '../src/manifest.js'
import type { Manifest } from '../src/manifest.js'
import { ManifestBuilder } from '../src/manifest-builder.js'
import { merkleRoot } from '../src/merkle.js'
import { checkFileSet, checkName, checkRelativePath, comparePaths } from '../src/paths.js'
import { pick, plain, randomBytes, randomInt, seededRandom, specPack, tempDir } from './helpers.js'

const KIB = 1024
const { BAD_MANIFEST, HASH_MISMATCH, INVALID_ARGUMENT } = ErrorCode

/** Builds in memory, feeding the bytes of the files (in canonical order) in pieces of `piece` bytes. */
function build(name: string, kind: 'file' | 'directory', files: [string, Uint8Array][], chunkSize?: number, piece = 1000): Manifest {
  const builder = new ManifestBuilder({ name, kind, chunkSize, files: files.map(([path, data]) => ({ path, size: data.length })) })
  const byPath = new Map(files)
  for (const f of builder.files) {
    const data = byPath.get(f.path)!
    for (let at = 0; at < data.length; at += piece) builder.update(data.subarray(at, at + piece))
  }
  return builder.finish()
}

/** The manifest's fields in canonical order, to corrupt one at a time. */
function wireOf(m: Manifest): unknown[] {
  return [m.version, m.name, m.kind === 'file' ? 0 : 1, m.chunkSize, m.size, m.files.map((f) => [f.path, f.size]), m.chunkHashes, m.root]
}

/** A directory manifest of empty files: every path rule applies, no chunk needs hashing. */
function emptyFilesManifest(paths: string[]): Uint8Array {
  return specPack([1, 'dir', 1, MIN_CHUNK_SIZE, 0, paths.map((p) => [p, 0]), new Uint8Array(0), sha256()])
}

function refuses(t: Test, bytes: Uint8Array, code: string, reason: RegExp, what: string): void {
  try {
    decodeManifest(bytes)
    t.fail(`${what}: accepted`)
  } catch (err) {
    t.ok(err instanceof ShoalError, `${what}: typed error`)
    t.equal((err as ShoalError).code, code, `${what}: ${(err as Error).message}`)
    t.match((err as Error).message, reason, `${what}: refused by the right check`)
  }
}

async function streamInto(builder: ManifestBuilder, path: string, highWaterMark: number, t: Test): Promise<void> {
  for await (const piece of createReadStream(path, { highWaterMark }) as AsyncIterable<Buffer>) {
    builder.update(piece)
    // The builder keeps no reference to what it was fed: scribbling over it changes nothing.
    piece.fill(0xee)
    for (const [key, value] of Object.entries(builder)) {
      if (value instanceof Uint8Array && key !== 'hashes') t.fail(`builder holds ${value.length} bytes in ${key}`)
    }
  }
}

t.test('the same input always gives the same bytes and id', (t) => {
  const rand = seededRandom(31)
  const files: [string, Uint8Array][] = [['b/x.bin', randomBytes(rand, 40_000)], ['a.txt', randomBytes(rand, 5)], ['b/empty', new Uint8Array(0)], ['c', randomBytes(rand, 17_000)]]
  const first = encodeManifest(build('set', 'directory', files, 16 * KIB))
  const again = encodeManifest(build('set', 'directory', files, 16 * KIB, 7))
  const reordered = encodeManifest(build('set', 'directory', [...files].reverse(), 16 * KIB, 16 * KIB))
  t.equal(Buffer.compare(first, again), 0, 'fed in other piece sizes')
  t.equal(Buffer.compare(first, reordered), 0, 'files given in another order')
  t.same(contentIdOf(first), contentIdOf(reordered))
  t.same(build('set', 'directory', files, 16 * KIB).files.map((f) => f.path), ['a.txt', 'b/empty', 'b/x.bin', 'c'], 'canonical order')
  t.end()
})

t.test('a file larger than many chunks streams from disk into the builder', async (t) => {
  const dir = await tempDir(t)
  const rand = seededRandom(32)
  const data = Buffer.from(randomBytes(rand, 3 * 1024 * KIB + 77))
  const path = join(dir, 'big.bin')
  await writeFile(path, data)
  for (const chunkSize of [16 * KIB, 64 * KIB, undefined]) {
    const builder = new ManifestBuilder({ name: 'big.bin', kind: 'file', files: [{ path: 'big.bin', size: data.length }], chunkSize })
    await streamInto(builder, path, 10_007, t)
    t.equal(builder.bytesHashed, data.length)
    const m = builder.finish()
    const size = chunkSize ?? 1024 * KIB
    t.equal(m.chunkSize, size)
    t.equal(manifestChunkCount(m), Math.ceil(data.length / size))
    let same = true
    for (let i = 0; i < manifestChunkCount(m); i++) {
      if (Buffer.compare(chunkHash(m, i), sha256(data.subarray(i * size, (i + 1) * size))) !== 0) same = false
    }
    t.ok(same, `every chunk hash is SHA-256 of its bytes (chunk size ${size})`)
    t.same(plain(decodeManifest(encodeManifest(m), contentIdOf(encodeManifest(m)))), plain(m), 'decodes and verifies against its id')
  }
  t.end()
})

t.test('a directory with empty and nested files streams from disk', async (t) => {
  const dir = await tempDir(t)
  const rand = seededRandom(33)
  const files: [string, Uint8Array][] = [
    ['!first-empty', new Uint8Array(0)], ['docs/readme.md', randomBytes(rand, 3000)], ['docs/sub/deep.bin', randomBytes(rand, 50_000)],
    ['docs/sub/empty', new Uint8Array(0)], ['média/é.bin', randomBytes(rand, 16 * KIB)], ['z-last-empty', new Uint8Array(0)],
  ]
  for (const [p, data] of files) {
    await mkdir(dirname(join(dir, p)), { recursive: true })
    await writeFile(join(dir, p), data)
  }
  const builder = new ManifestBuilder({ name: 'tree', kind: 'directory', chunkSize: 16 * KIB, files: files.map(([path, d]) => ({ path, size: d.length })).reverse() })
  for (const f of builder.files) await streamInto(builder, join(dir, f.path), 1000, t)
  const m = builder.finish()
  t.same(plain(m), plain(build('tree', 'directory', files, 16 * KIB)), 'same as building from memory')
  t.equal(m.size, 3000 + 50_000 + 16 * KIB)
  t.end()
})

t.test('one changed byte changes exactly one chunk hash, the root and the id', async (t) => {
  const dir = await tempDir(t)
  const data = Buffer.from(randomBytes(seededRandom(34), 10 * 16 * KIB + 5))
  const path = join(dir, 'f')
  const manifestOf = async (): Promise<Manifest> => {
    const builder = new ManifestBuilder({ name: 'f', kind: 'file', files: [{ path: 'f', size: data.length }], chunkSize: 16 * KIB })
    await streamInto(builder, path, 4096, t)
    return builder.finish()
  }
  await writeFile(path, data)
  const before = await manifestOf()
  for (const offset of [0, 5 * 16 * KIB + 3, data.length - 1]) {
    const changed = Buffer.from(await readFile(path))
    changed[offset] ^= 0x01
    await writeFile(path, changed)
    const after = await manifestOf()
    await writeFile(path, data)
    const differing = Array.from({ length: manifestChunkCount(before) }, (_, i) => i).filter((i) => Buffer.compare(chunkHash(before, i), chunkHash(after, i)) !== 0)
    t.same(differing, [Math.floor(offset / (16 * KIB))], `byte ${offset}: only its chunk differs`)
    t.not(Buffer.from(after.root).toString('hex'), Buffer.from(before.root).toString('hex'), 'root differs')
    t.not(Buffer.from(contentIdOf(encodeManifest(after))).toString('hex'), Buffer.from(contentIdOf(encodeManifest(before))).toString('hex'), 'id differs')
  }
  t.end()
})

t.test('decodeManifest checks the id, every field, the arithmetic and the canonical form', (t) => {
  const rand = seededRandom(35)
  const m = build('set', 'directory', [['a', randomBytes(rand, 20_000)], ['b/c', randomBytes(rand, 30_000)]], 16 * KIB)
  const bytes = encodeManifest(m)
  t.equal(Buffer.compare(specPack(wireOf(m)), bytes), 0, 'canonical bytes follow the spec encoding')
  t.same(plain(decodeManifest(bytes, contentIdOf(bytes))), plain(m))
  t.throws(() => decodeManifest(bytes, new Uint8Array(32)), { code: HASH_MISMATCH })
  const withField = (index: number, value: unknown): Uint8Array => {
    const wire = wireOf(m)
    wire[index] = value
    return specPack(wire)
  }
  const hashes = m.chunkHashes
  refuses(t, withField(0, 2), BAD_MANIFEST, /version/, 'version 2')
  refuses(t, withField(1, 7), BAD_MANIFEST, /name must be a string/, 'name not a string')
  refuses(t, withField(2, 2), BAD_MANIFEST, /kind/, 'kind 2')
  refuses(t, withField(3, 20_000), BAD_MANIFEST, /chunk size/, 'chunk size not a power of two')
  refuses(t, withField(3, 8 * KIB), BAD_MANIFEST, /chunk size/, 'chunk size under 16 KiB')
  refuses(t, withField(3, 2 * MAX_CHUNK_SIZE), BAD_MANIFEST, /chunk size/, 'chunk size over 16 MiB')
  refuses(t, withField(4, -1), BAD_MANIFEST, /non-negative integers/, 'negative size')
  refuses(t, withField(4, 50_000.5), BAD_MANIFEST, /non-negative integers/, 'fractional size')
  refuses(t, withField(4, 50_001), BAD_MANIFEST, /add up/, 'size not the sum of the files')
  refuses(t, withField(5, 'a'), BAD_MANIFEST, /files must be a list/, 'files not a list')
  refuses(t, withField(5, [['a', 20_000, 0], ['b/c', 30_000]]), BAD_MANIFEST, /\[path, size\]/, 'file with three fields')
  refuses(t, withField(5, [['a', '20000'], ['b/c', 30_000]]), BAD_MANIFEST, /\[path, size\]/, 'file size a string')
  refuses(t, withField(5, [[1, 20_000], ['b/c', 30_000]]), BAD_MANIFEST, /\[path, size\]/, 'path a number')
  refuses(t, withField(6, 'hashes'), BAD_MANIFEST, /binary/, 'hashes not binary')
  refuses(t, withField(6, hashes.subarray(0, hashes.length - HASH_BYTES)), BAD_MANIFEST, /chunk hashes/, 'one hash missing')
  refuses(t, withField(6, Buffer.concat([hashes, new Uint8Array(HASH_BYTES)])), BAD_MANIFEST, /chunk hashes/, 'one hash too many')
  refuses(t, withField(6, hashes.subarray(1)), BAD_MANIFEST, /chunk hashes/, 'hashes not a multiple of 32 bytes')
  refuses(t, withField(7, new Uint8Array(32)), BAD_MANIFEST, /merkle root/, 'wrong root')
  refuses(t, withField(7, m.root.subarray(0, 31)), BAD_MANIFEST, /merkle root/, 'short root')
  const flipped = Uint8Array.from(hashes)
  flipped[40] ^= 1
  refuses(t, withField(6, flipped), BAD_MANIFEST, /merkle root/, 'a chunk hash changed under the root')
  refuses(t, specPack(wireOf(m).slice(0, 7)), BAD_MANIFEST, /8 fields/, 'seven fields')
  refuses(t, specPack('manifest'), BAD_MANIFEST, /8 fields/, 'not a list')
  refuses(t, Buffer.concat([bytes, Buffer.of(0)]), BAD_MANIFEST, /trailing bytes/, 'trailing byte')
  refuses(t, bytes.subarray(0, bytes.length - 1), BAD_MANIFEST, /truncated/, 'truncated')
  refuses(t, Uint8Array.of(0x81, 0xa1, 0x61, 0x01), BAD_MANIFEST, /unsupported msgpack type/, 'a map')
  refuses(t, new Uint8Array(MAX_MANIFEST_BYTES + 1), BAD_MANIFEST, /too large/, 'over MAX_MANIFEST_BYTES')
  const longChunkSize = Buffer.from(bytes)
  const at = longChunkSize.indexOf(Buffer.of(0xcd, 0x40, 0x00))
  refuses(t, Buffer.concat([longChunkSize.subarray(0, at), Buffer.of(0xce, 0, 0, 0x40, 0), longChunkSize.subarray(at + 3)]), BAD_MANIFEST, /canonical/, 'chunk size as uint32')
  refuses(t, withField(1, Buffer.from('set')), BAD_MANIFEST, /name must be a string/, 'name as binary')
  t.end()
})

t.test('a single-file manifest lists exactly its one file', (t) => {
  const m = build('one.bin', 'file', [['one.bin', new Uint8Array(100)]], 16 * KIB)
  const wire = wireOf(m)
  refuses(t, specPack([...wire.slice(0, 5), [['other.bin', 100]], ...wire.slice(6)]), BAD_MANIFEST, /exactly one file/, 'file named unlike the content')
  refuses(t, specPack([...wire.slice(0, 5), [['one.bin', 100], ['two', 0]], ...wire.slice(6)]), BAD_MANIFEST, /exactly one file/, 'two files')
  refuses(t, specPack([wire[0], 'a/b', ...wire.slice(2, 5), [['a/b', 100]], ...wire.slice(6)]), BAD_MANIFEST, /"\/"/, 'name with a slash')
  t.throws(() => build('one.bin', 'file', [['one.bin', new Uint8Array(1)], ['x', new Uint8Array(1)]], 16 * KIB), { code: BAD_MANIFEST })
  t.end()
})

t.test('contents of more than MAX_CHUNKS chunks or MAX_FILES files are refused', (t) => {
  const tooBig = (MAX_CHUNKS + 1) * MIN_CHUNK_SIZE
  refuses(t, specPack([1, 'big', 0, MIN_CHUNK_SIZE, tooBig, [['big', tooBig]], new Uint8Array(0), sha256()]), BAD_MANIFEST, /chunks, more than/, 'MAX_CHUNKS + 1 chunks')
  const paths = Array.from({ length: MAX_FILES + 1 }, (_, i) => `f${String(i).padStart(6, '0')}`)
  refuses(t, emptyFilesManifest(paths), BAD_MANIFEST, /at most/, 'MAX_FILES + 1 files')
  t.doesNotThrow(() => decodeManifest(emptyFilesManifest(paths.slice(1))), 'MAX_FILES files')
  t.end()
})

t.test('unsafe paths are refused, in received manifests and when building', (t) => {
  const bad: [string[], RegExp][] = [
    [['../x'], /"\.\."/], [['a/../b'], /"\.\."/], [['..'], /"\.\."/], [['a/./b'], /"\."/], [['/abs'], /empty/], [['a/'], /empty/],
    [['a//b'], /empty/], [[''], /empty/], [['a\u0000b'], /forbidden/], [['a\\b'], /forbidden/], [['C:x'], /forbidden/],
    [['tab\there'], /forbidden/], [['del\u007f'], /forbidden/], [['n'.repeat(256)], /255 bytes/], [['é'.repeat(128)], /255 bytes/],
    [[Array.from({ length: 17 }, () => 'p'.repeat(250)).join('/')], /4096 bytes/],
    [['a', 'a'], /unique/], [['b', 'a'], /byte order/], [['a', 'a/b'], /both a file and a directory/], [['a/b', 'a/b/c/d'], /both a file and a directory/],
  ]
  for (const [paths, reason] of bad) {
    refuses(t, emptyFilesManifest(paths), BAD_MANIFEST, reason, JSON.stringify(paths))
    // The builder sorts its files, so only a wrong order cannot reach it.
    if (!/byte order/.test(reason.source)) {
      t.throws(() => build('dir', 'directory', paths.map((p) => [p, new Uint8Array(0)])), { code: BAD_MANIFEST }, `building ${JSON.stringify(paths)}`)
    }
  }
  for (const name of ['..', '.', 'a/b', '', 'x\u0000']) refuses(t, specPack([1, name, 1, MIN_CHUNK_SIZE, 0, [], new Uint8Array(0), sha256()]), BAD_MANIFEST, /name/, `content name ${JSON.stringify(name)}`)
  const fine = ['...', 'a b', 'é/ü.txt', 'x'.repeat(255), '.hidden/.x', 'a-b_c.d~']
  t.doesNotThrow(() => decodeManifest(emptyFilesManifest([...fine].sort(comparePaths))), 'ordinary names pass')
  t.doesNotThrow(() => checkRelativePath('a/b/c'))
  t.throws(() => checkName(7 as never), { code: BAD_MANIFEST })
  t.throws(() => checkRelativePath(undefined as never), { code: BAD_MANIFEST })
  t.ok(comparePaths('B', 'a') < 0 && comparePaths('z', 'é') < 0 && comparePaths('a', 'a') === 0, 'byte order of UTF-8, not locale order')
  t.end()
})

t.test('a path used as a file and as a directory is found wherever other paths sort between them', (t) => {
  // Segments chosen to sort on both sides of "/" (0x2f): "a!" and "a.b" fall between "a" and "a/…".
  const segments = ['a', 'a!', 'a.b', 'a0', 'é', 'b']
  const random = seededRandom(7)
  let conflicts = 0
  for (let round = 0; round < 400; round++) {
    const set = new Set<string>()
    const count = 1 + randomInt(random, 8)
    for (let i = 0; i < count; i++) {
      set.add(Array.from({ length: 1 + randomInt(random, 4) }, () => pick(random, segments)).join('/'))
    }
    const paths = [...set].sort(comparePaths)
    const naive = paths.some((p) => paths.some((q) => q.startsWith(`${p}/`)))
    if (naive) conflicts++
    if (naive) t.throws(() => checkFileSet(paths), /both a file and a directory/, JSON.stringify(paths))
    else t.doesNotThrow(() => checkFileSet(paths), JSON.stringify(paths))
  }
  t.ok(conflicts > 50 && conflicts < 350, `both cases were drawn (${conflicts} of 400 sets had a conflict)`)
  t.end()
})

t.test('empty contents have no chunks and the empty root', (t) => {
  for (const m of [build('empty', 'file', [['empty', new Uint8Array(0)]]), build('void', 'directory', [])]) {
    t.equal(manifestChunkCount(m), 0)
    t.same(plain(m.root), plain(sha256()))
    t.same(plain(decodeManifest(encodeManifest(m))), plain(m))
  }
  t.end()
})

t.test('sizes of 2^32 and more are float64 in the canonical form', (t) => {
  const rand = seededRandom(36)
  const size = 5 * 1024 * 1024 * KIB + 3
  const chunkSize = MAX_CHUNK_SIZE
  const chunkHashes = randomBytes(rand, chunkCountOf(size, chunkSize) * HASH_BYTES)
  const m: Manifest = { version: 1, name: 'huge.iso', kind: 'file', chunkSize, size, files: [{ path: 'huge.iso', size }], chunkHashes, root: merkleRoot(chunkHashes) }
  validateManifest(m)
  const bytes = encodeManifest(m)
  const float64 = Buffer.alloc(9)
  float64[0] = 0xcb
  float64.writeDoubleBE(size, 1)
  t.ok(Buffer.from(bytes).includes(float64), 'the size is written as float64')
  t.same(plain(decodeManifest(bytes)), plain(m))
  const uint64 = Buffer.alloc(9)
  uint64[0] = 0xcf
  uint64.writeBigUInt64BE(BigInt(size), 1)
  const at = Buffer.from(bytes).indexOf(float64)
  const asUint64 = Buffer.concat([bytes.subarray(0, at), uint64, bytes.subarray(at + float64.length)])
  refuses(t, asUint64, BAD_MANIFEST, /canonical/, 'a uint64 size is not canonical')
  t.end()
})

t.test('chunk arithmetic', (t) => {
  t.equal(chunkCountOf(0, MIN_CHUNK_SIZE), 0)
  t.equal(chunkCountOf(1, MIN_CHUNK_SIZE), 1)
  t.equal(chunkCountOf(MIN_CHUNK_SIZE, MIN_CHUNK_SIZE), 1)
  t.equal(chunkCountOf(MIN_CHUNK_SIZE + 1, MIN_CHUNK_SIZE), 2)
  for (const ok of [MIN_CHUNK_SIZE, 1 << 20, MAX_CHUNK_SIZE]) t.ok(isValidChunkSize(ok), `${ok}`)
  for (const bad of [0, MIN_CHUNK_SIZE / 2, MIN_CHUNK_SIZE + 1, 3 * MIN_CHUNK_SIZE, MAX_CHUNK_SIZE * 2, 1.5, Number.NaN]) t.notOk(isValidChunkSize(bad), `${bad}`)
  t.equal(chooseChunkSize(10), 1 << 20, 'small contents use 1 MiB')
  t.equal(chooseChunkSize(MAX_CHUNKS * (1 << 20)), 1 << 20, '256 GiB still fits 1 MiB chunks')
  t.equal(chooseChunkSize(MAX_CHUNKS * (1 << 20) + 1), 2 << 20, 'one byte more doubles the chunk size')
  t.equal(chooseChunkSize(2 ** 50), MAX_CHUNK_SIZE, 'never past 16 MiB')
  t.equal(chooseChunkSize(100, MIN_CHUNK_SIZE), MIN_CHUNK_SIZE)
  t.end()
})

t.test('chunkRange and chunkSpans agree with a byte-by-byte reference', (t) => {
  const rand = seededRandom(37)
  const chunkSize = MIN_CHUNK_SIZE
  for (let round = 0; round < 60; round++) {
    const sizes = Array.from({ length: 1 + randomInt(rand, 8) }, () => pick(rand, [0, 0, 1, chunkSize - 1, chunkSize, chunkSize + 1, randomInt(rand, 3 * chunkSize)]))
    const files = sizes.map((size, i) => ({ path: `f${i}`, size }))
    const size = sizes.reduce((a, b) => a + b, 0)
    const m = { chunkSize, size, files } as Manifest
    // Which file, and where in it, each content byte lies.
    const ownerFile = new Int32Array(size)
    const ownerOffset = new Int32Array(size)
    let b = 0
    files.forEach((f, fi) => {
      for (let o = 0; o < f.size; o++, b++) [ownerFile[b], ownerOffset[b]] = [fi, o]
    })
    for (let c = 0; c < chunkCountOf(size, chunkSize); c++) {
      const { offset, length } = chunkRange(m, c)
      if (offset !== c * chunkSize || length !== Math.min(chunkSize, size - offset)) t.fail(`round ${round} chunk ${c}: range`)
      let at = offset
      for (const span of chunkSpans(m, c)) {
        if (span.length <= 0 || span.chunkOffset !== at - offset) t.fail(`round ${round} chunk ${c}: span ${JSON.stringify(span)}`)
        for (let i = 0; i < span.length; i++, at++) {
          if (ownerFile[at] !== span.fileIndex || ownerOffset[at] !== span.fileOffset + i) {
            t.fail(`round ${round} chunk ${c}: byte ${at}`)
            return t.end()
          }
        }
      }
      if (at !== offset + length) t.fail(`round ${round} chunk ${c}: spans cover ${at - offset} of ${length} bytes`)
    }
  }
  const single = { chunkSize, size: 2 * chunkSize + 10, files: [{ path: 'x', size: 2 * chunkSize + 10 }] } as Manifest
  t.same(chunkRange(single, 2), { offset: 2 * chunkSize, length: 10 })
  t.same(chunkSpans(single, 1), [{ fileIndex: 0, fileOffset: chunkSize, chunkOffset: 0, length: chunkSize }])
  t.end()
})

/** The merkle root as PROTOCOL.md words it, written independently of src/merkle.ts. */
function naiveRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return Buffer.from(sha256())
  if (leaves.length === 1) return leaves[0]
  const up: Buffer[] = []
  for (let i = 0; i < leaves.length; i += 2) {
    up.push(i + 1 < leaves.length ? Buffer.from(sha256(Buffer.concat([Buffer.of(1), leaves[i], leaves[i + 1]]))) : leaves[i])
  }
  return naiveRoot(up)
}

t.test('merkle root for 0, 1, 2, 3 and many leaves', (t) => {
  const rand = seededRandom(38)
  const leaf = (): Buffer => Buffer.from(randomBytes(rand, HASH_BYTES))
  const node = (l: Uint8Array, r: Uint8Array): Buffer => Buffer.from(sha256(Uint8Array.of(1), l, r))
  const [a, b, c, d, e] = [leaf(), leaf(), leaf(), leaf(), leaf()]
  const hex = (x: Uint8Array): string => Buffer.from(x).toString('hex')
  t.equal(hex(merkleRoot(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '0 leaves: SHA-256 of nothing')
  t.equal(hex(merkleRoot(a)), hex(a), '1 leaf: the leaf')
  t.equal(hex(merkleRoot(Buffer.concat([a, b]))), hex(node(a, b)), '2 leaves')
  t.equal(hex(merkleRoot(Buffer.concat([a, b, c]))), hex(node(node(a, b), c)), '3 leaves: the odd one moves up')
  t.equal(hex(merkleRoot(Buffer.concat([a, b, c, d, e]))), hex(node(node(node(a, b), node(c, d)), e)), '5 leaves')
  for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), 63, 64, 65, 1000]) {
    const leaves = Array.from({ length: n }, leaf)
    if (hex(merkleRoot(Buffer.concat(leaves))) !== hex(naiveRoot(leaves))) t.fail(`${n} leaves`)
  }
  const one = Uint8Array.from(a)
  t.not(merkleRoot(one), one, 'the root is a copy, not a view of the input')
  t.end()
})

t.test('ManifestBuilder refuses bad arguments before hashing anything', (t) => {
  const files = [{ path: 'f', size: 10 }]
  t.throws(() => new ManifestBuilder({ name: 'f', kind: 'file', files, chunkSize: 1000 }), { code: INVALID_ARGUMENT, message: /chunkSize/ })
  t.throws(() => new ManifestBuilder({ name: 'f', kind: 'file', files: [{ path: 'f', size: -1 }] }), { code: INVALID_ARGUMENT, message: /files/ })
  t.throws(() => new ManifestBuilder({ name: 'f', kind: 'file', files: [{ path: 'f', size: 1.5 }] }), { code: INVALID_ARGUMENT })
  t.throws(() => new ManifestBuilder({ name: 'f', kind: 'file', files: [{ path: 'f', size: 5 * 2 ** 40 }] }), { code: INVALID_ARGUMENT, message: /chunks/ }, '5 TiB needs too many chunks')
  t.throws(() => new ManifestBuilder({ name: 'f', kind: 'file', files: [{ path: 'f', size: 2 ** 53 }] }), { code: INVALID_ARGUMENT })
  const builder = new ManifestBuilder({ name: 'f', kind: 'file', files })
  builder.update(new Uint8Array(4))
  t.throws(() => builder.finish(), { code: INVALID_ARGUMENT, message: /expected 10 bytes, got 4/ })
  t.throws(() => builder.update(new Uint8Array(7)), { code: INVALID_ARGUMENT, message: /more bytes/ })
  builder.update(new Uint8Array(6))
  t.equal(manifestChunkCount(builder.finish()), 1)
  t.end()
})

t.test('decodeManifest only ever throws typed errors on mutated manifests', (t) => {
  const rand = seededRandom(39)
  const m = build('set', 'directory', [['a', randomBytes(rand, 20_000)], ['b/c', randomBytes(rand, 30_000)], ['b/d', new Uint8Array(0)]], 16 * KIB)
  const bytes = encodeManifest(m)
  const id = contentIdOf(bytes)
  const codes = new Map<string, number>()
  for (let i = 0; i < 5000; i++) {
    const mutated = Buffer.from(bytes)
    for (let n = 1 + randomInt(rand, 3); n > 0; n--) mutated[randomInt(rand, mutated.length)] = randomInt(rand, 256)
    const cut = rand() < 0.1 ? mutated.subarray(0, randomInt(rand, mutated.length)) : mutated
    try {
      decodeManifest(cut, rand() < 0.5 ? id : undefined)
      codes.set('accepted', (codes.get('accepted') ?? 0) + 1)
    } catch (err) {
      const code = err instanceof ShoalError ? err.code : `untyped ${String(err)}`
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
  }
  t.same([...codes.keys()].filter((c) => c !== BAD_MANIFEST && c !== HASH_MISMATCH && c !== 'accepted'), [], JSON.stringify(Object.fromEntries(codes)))
  t.ok((codes.get(HASH_MISMATCH) ?? 0) > 0 && (codes.get(BAD_MANIFEST) ?? 0) > 0)
  t.end()
})
