import { createReadStream } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import {
  BadManifestError, comparePaths, contentIdOf, encodeManifest, ErrorCode, ManifestBuilder, MAX_FILES, ShoalError, toHex,
} from '@shoal/protocol'
import type { Manifest, ManifestFile } from '@shoal/protocol'

export interface BuiltManifest {
  /** Content id, lowercase hex. */
  id: string
  manifest: Manifest
  bytes: Uint8Array
  /** Absolute path of the file or folder that was read. */
  root: string
}

export interface ManifestFromPathOptions {
  chunkSize?: number
  /** Called as bytes are hashed. */
  onProgress?: (hashed: number, total: number) => void
}

const READ_BYTES = 4 * 1024 * 1024
/** Folder entries whose metadata is read at once. */
const STAT_BATCH = 64

/**
 * Builds the manifest of a file or a folder by streaming its bytes once, in constant
 * memory. A folder's files are read in canonical path order; symbolic links and special
 * files are refused rather than silently followed or dropped.
 */
export async function manifestFromPath(path: string, options: ManifestFromPathOptions = {}): Promise<BuiltManifest> {
  const root = resolve(path)
  const top = await lstat(root).catch((err) => {
    throw new ShoalError(ErrorCode.NOT_FOUND, `cannot read ${root}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  })
  const kind = top.isDirectory() ? 'directory' : 'file'
  if (!top.isDirectory() && !top.isFile()) throw unsupported(root)
  const files: ManifestFile[] = kind === 'file' ? [{ path: basename(root), size: top.size }] : await walk(root)
  // The builder checks the name, every path and the file count before a byte is read.
  const builder = newBuilder({ name: basename(root), kind, files, chunkSize: options.chunkSize })
  for (const file of builder.files) {
    const at = kind === 'file' ? root : join(root, ...file.path.split('/'))
    await feed(builder, at, file.size, options.onProgress)
  }
  const manifest = builder.finish()
  const bytes = encodeManifest(manifest)
  return { id: toHex(contentIdOf(bytes)), manifest, bytes, root }
}

function newBuilder(init: ConstructorParameters<typeof ManifestBuilder>[0]): ManifestBuilder {
  try {
    return new ManifestBuilder(init)
  } catch (err) {
    if (err instanceof ShoalError) throw new ShoalError(ErrorCode.INVALID_ARGUMENT, `cannot share: ${err.message}`)
    throw err
  }
}

/**
 * Every regular file under `dir`, as '/'-separated paths relative to it, added to `out`. It
 * stops once `out` holds more than MAX_FILES: that many are refused whatever the rest are.
 */
async function walk(dir: string, prefix = '', out: ManifestFile[] = []): Promise<ManifestFile[]> {
  const names = (await readdir(dir)).sort(comparePaths)
  // A few entries are looked at at once: one at a time, a folder of 100,000 files takes seconds more.
  for (let at = 0; at < names.length && out.length <= MAX_FILES; at += STAT_BATCH) {
    const batch = names.slice(at, at + STAT_BATCH).map((name) => ({ full: join(dir, name), rel: prefix === '' ? name : `${prefix}/${name}` }))
    const stats = await Promise.all(batch.map(({ full }) => lstat(full)))
    for (let i = 0; i < batch.length && out.length <= MAX_FILES; i++) {
      const { full, rel } = batch[i]
      if (stats[i].isDirectory()) await walk(full, rel, out)
      else if (stats[i].isFile()) out.push({ path: rel, size: stats[i].size })
      else throw unsupported(full)
    }
  }
  return out
}

async function feed(builder: ManifestBuilder, path: string, size: number, onProgress?: (hashed: number, total: number) => void): Promise<void> {
  let read = 0
  // `end` is inclusive: reading one byte past the listed size reveals a file that grew.
  for await (const data of createReadStream(path, { highWaterMark: READ_BYTES, end: size === 0 ? undefined : size })) {
    const chunk = data as Buffer
    if (read + chunk.length > size) throw changed(path)
    builder.update(chunk)
    read += chunk.length
    onProgress?.(builder.bytesHashed, builder.size)
  }
  if (read !== size) throw changed(path)
}

function changed(path: string): ShoalError {
  return new ShoalError(ErrorCode.INVALID_ARGUMENT, `${path} changed while it was being read`)
}

function unsupported(path: string): BadManifestError {
  return new BadManifestError(`${path} is not a regular file or folder (links and devices are not shared)`)
}
