import { Packr, Unpackr } from 'msgpackr'
import { BadManifestError, HashMismatchError, ShoalError } from './errors.js'
import { bytesEqual, sha256 } from './hash.js'
import {
  DEFAULT_CHUNK_SIZE, HASH_BYTES, MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_FILES, MAX_MANIFEST_BYTES, MIN_CHUNK_SIZE,
} from './limits.js'
import { merkleRoot } from './merkle.js'
import { checkFileSet, checkName } from './paths.js'
import { scanFrame } from './frame-scan.js'

export const MANIFEST_VERSION = 1

export interface ManifestFile {
  /** '/'-separated path relative to the content's folder; for a single file, its name. */
  path: string
  size: number
}

/**
 * What a content is: its files (concatenated, in path byte order, form one byte stream),
 * how that stream is cut into chunks and the SHA-256 of each chunk. The content id is the
 * SHA-256 of the canonical encoding, so a manifest from anyone is checked against its id.
 */
export interface Manifest {
  version: number
  name: string
  kind: 'file' | 'directory'
  chunkSize: number
  size: number
  files: ManifestFile[]
  /** chunkCount × 32 bytes. */
  chunkHashes: Uint8Array
  /** Merkle root over chunkHashes. */
  root: Uint8Array
}

const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' })
const KIND_CODES = { file: 0, directory: 1 } as const

export function chunkCountOf(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

export function isValidChunkSize(chunkSize: number): boolean {
  return Number.isInteger(chunkSize) && chunkSize >= MIN_CHUNK_SIZE && chunkSize <= MAX_CHUNK_SIZE && (chunkSize & (chunkSize - 1)) === 0
}

/** The default chunk size for a content, grown where needed to stay within MAX_CHUNKS. */
export function chooseChunkSize(size: number, preferred = DEFAULT_CHUNK_SIZE): number {
  let chunkSize = preferred
  while (chunkCountOf(size, chunkSize) > MAX_CHUNKS && chunkSize < MAX_CHUNK_SIZE) chunkSize *= 2
  return chunkSize
}

export function manifestChunkCount(m: Manifest): number {
  return m.chunkHashes.length / HASH_BYTES
}

export function chunkHash(m: Manifest, index: number): Uint8Array {
  return m.chunkHashes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES)
}

/** Byte range of chunk `index` in the content stream. */
export function chunkRange(m: Manifest, index: number): { offset: number; length: number } {
  const offset = index * m.chunkSize
  return { offset, length: Math.min(m.chunkSize, m.size - offset) }
}

export interface FileSpan {
  fileIndex: number
  /** Offset inside that file. */
  fileOffset: number
  /** Offset inside the chunk. */
  chunkOffset: number
  length: number
}

/** Which parts of which files chunk `index` covers (empty files cover nothing). */
export function chunkSpans(m: Manifest, index: number): FileSpan[] {
  const { offset, length } = chunkRange(m, index)
  const spans: FileSpan[] = []
  let fileStart = 0
  for (let f = 0; f < m.files.length && fileStart < offset + length; f++) {
    const fileEnd = fileStart + m.files[f].size
    const from = Math.max(offset, fileStart)
    const to = Math.min(offset + length, fileEnd)
    if (to > from) spans.push({ fileIndex: f, fileOffset: from - fileStart, chunkOffset: from - offset, length: to - from })
    fileStart = fileEnd
  }
  return spans
}

/** The canonical bytes: `[version, name, kind, chunkSize, size, [[path, size]...], chunkHashes, root]`. */
export function encodeManifest(m: Manifest): Uint8Array {
  return packr.pack([
    m.version, m.name, KIND_CODES[m.kind], m.chunkSize, m.size,
    m.files.map((f) => [f.path, f.size]), Buffer.from(m.chunkHashes), Buffer.from(m.root),
  ])
}

export function contentIdOf(canonical: Uint8Array): Uint8Array {
  return sha256(canonical)
}

/**
 * Parses untrusted manifest bytes and checks them against `expectedId` when given: hash,
 * structure, limits, safe paths, chunk arithmetic, merkle root, and that the bytes are
 * the canonical encoding of what they decode to.
 */
export function decodeManifest(bytes: Uint8Array, expectedId?: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new BadManifestError(`manifest of ${bytes.length} bytes is too large`)
  if (expectedId !== undefined && !bytesEqual(contentIdOf(bytes), expectedId)) {
    throw new HashMismatchError('manifest does not hash to the content id')
  }
  let wire: unknown
  try {
    scanFrame(bytes, { maxDepth: 3, maxElements: 3 * MAX_FILES + 16 })
    wire = unpackr.unpack(bytes)
  } catch (err) {
    throw new BadManifestError(`manifest is not valid msgpack: ${err instanceof ShoalError ? err.message : 'undecodable'}`)
  }
  const m = fromWire(wire)
  validateManifest(m)
  if (!bytesEqual(encodeManifest(m), bytes)) throw new BadManifestError('manifest is not in canonical form')
  return m
}

function fromWire(wire: unknown): Manifest {
  if (!Array.isArray(wire) || wire.length !== 8) throw new BadManifestError('manifest must be a list of 8 fields')
  const [version, name, kind, chunkSize, size, files, chunkHashes, root] = wire
  if (version !== MANIFEST_VERSION) throw new BadManifestError(`manifest version ${String(version)} is not supported`)
  if (typeof name !== 'string') throw new BadManifestError('name must be a string')
  if (kind !== 0 && kind !== 1) throw new BadManifestError('kind must be 0 (file) or 1 (directory)')
  if (!isSafeInteger(chunkSize) || !isSafeInteger(size)) throw new BadManifestError('sizes must be non-negative integers')
  if (!Array.isArray(files) || files.length > MAX_FILES) throw new BadManifestError(`files must be a list of at most ${MAX_FILES}`)
  if (!(chunkHashes instanceof Uint8Array) || !(root instanceof Uint8Array)) throw new BadManifestError('hashes must be binary')
  return {
    version, name, kind: kind === 0 ? 'file' : 'directory', chunkSize, size,
    files: files.map((f: unknown) => {
      if (!Array.isArray(f) || f.length !== 2 || typeof f[0] !== 'string' || !isSafeInteger(f[1])) {
        throw new BadManifestError('each file must be [path, size]')
      }
      return { path: f[0], size: f[1] }
    }),
    chunkHashes: Uint8Array.from(chunkHashes),
    root: Uint8Array.from(root),
  }
}

function isSafeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/**
 * The rules on a manifest's name and file list alone (files in canonical order): a builder
 * checks them before it reads a byte, and every manifest obeys them.
 */
export function validateFileList(name: string, kind: Manifest['kind'], files: readonly ManifestFile[]): void {
  checkName(name)
  if (files.length > MAX_FILES) throw new BadManifestError(`a content holds at most ${MAX_FILES} files; this one has more`)
  if (kind === 'file' && (files.length !== 1 || files[0].path !== name)) {
    throw new BadManifestError('a single-file manifest lists exactly one file, named like the content')
  }
  if (kind === 'directory') checkFileSet(files.map((f) => f.path))
}

/** Every rule a manifest obeys, whether built here or received. */
export function validateManifest(m: Manifest): void {
  validateFileList(m.name, m.kind, m.files)
  if (!isValidChunkSize(m.chunkSize)) throw new BadManifestError(`chunk size ${m.chunkSize} must be a power of two from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`)
  const chunks = chunkCountOf(m.size, m.chunkSize)
  if (chunks > MAX_CHUNKS) throw new BadManifestError(`content needs ${chunks} chunks, more than ${MAX_CHUNKS}`)
  let total = 0
  for (const f of m.files) total += f.size
  if (total !== m.size) throw new BadManifestError('file sizes do not add up to the content size')
  if (m.chunkHashes.length !== chunks * HASH_BYTES) throw new BadManifestError(`expected ${chunks} chunk hashes`)
  if (m.root.length !== HASH_BYTES || !bytesEqual(merkleRoot(m.chunkHashes), m.root)) {
    throw new BadManifestError('merkle root does not match the chunk hashes')
  }
}
