import { BadManifestError } from './errors.js'
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from './limits.js'

const utf8 = new TextEncoder()
// Control characters (NUL included), backslashes and colons mean different things on
// different systems; a portable manifest has none of them.
const FORBIDDEN = /[\u0000-\u001f\u007f\\:]/

/** One path segment (a file or directory name) that is safe to join under a download folder. */
export function checkName(name: string, what = 'name'): void {
  if (typeof name !== 'string' || name.length === 0) throw new BadManifestError(`${what} is empty`)
  if (utf8.encode(name).length > MAX_NAME_BYTES) throw new BadManifestError(`${what} is longer than ${MAX_NAME_BYTES} bytes`)
  if (name === '.' || name === '..') throw new BadManifestError(`${what} may not be "." or ".."`)
  if (name.includes('/')) throw new BadManifestError(`${what} may not contain "/"`)
  if (FORBIDDEN.test(name)) throw new BadManifestError(`${what} contains a forbidden character`)
}

/** A relative path of '/'-separated safe segments: never absolute, never climbing out. */
export function checkRelativePath(path: string): void {
  if (typeof path !== 'string' || path.length === 0) throw new BadManifestError('file path is empty')
  if (utf8.encode(path).length > MAX_PATH_BYTES) throw new BadManifestError(`file path is longer than ${MAX_PATH_BYTES} bytes`)
  for (const segment of path.split('/')) checkName(segment, `path segment of "${path}"`)
}

/** Byte-wise comparison of UTF-8 forms: the manifest's canonical file order. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/**
 * Checks that paths are strictly increasing (so unique) and that no path is also used
 * as a directory of another ("a" beside "a/b").
 */
export function checkFileSet(paths: string[]): void {
  const all = new Set(paths)
  for (let i = 0; i < paths.length; i++) {
    checkRelativePath(paths[i])
    if (i > 0 && comparePaths(paths[i - 1], paths[i]) >= 0) {
      throw new BadManifestError(`file paths must be unique and in byte order ("${paths[i - 1]}", "${paths[i]}")`)
    }
    const segments = paths[i].split('/')
    for (let depth = 1; depth < segments.length; depth++) {
      const dir = segments.slice(0, depth).join('/')
      if (all.has(dir)) throw new BadManifestError(`"${dir}" is both a file and a directory`)
    }
  }
}
