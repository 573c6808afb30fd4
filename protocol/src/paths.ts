import { BadManifestError } from './errors.js'
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from './limits.js'

// Control characters (NUL included), backslashes and colons mean different things on
// different systems; a portable manifest has none of them.
const FORBIDDEN = /[\u0000-\u001f\u007f\\:]/

/** One path segment (a file or directory name) that is safe to join under a download folder. */
export function checkName(name: string, what = 'name'): void {
  if (typeof name !== 'string') throw new BadManifestError(`${what} is empty`)
  checkSegment(name, what)
  if (name.includes('/')) throw new BadManifestError(`${what} may not contain "/"`)
  if (FORBIDDEN.test(name)) throw new BadManifestError(`${what} contains a forbidden character`)
}

/**
 * A relative path of '/'-separated safe segments: never absolute, never climbing out.
 * Characters are checked over the whole path at once, so a path of thousands of short
 * segments costs about as much as one long name.
 */
export function checkRelativePath(path: string): void {
  if (typeof path !== 'string' || path.length === 0) throw new BadManifestError('file path is empty')
  if (byteLengthOver(path, MAX_PATH_BYTES)) throw new BadManifestError(`file path is longer than ${MAX_PATH_BYTES} bytes`)
  const what = `path segment of "${path}"`
  if (FORBIDDEN.test(path)) throw new BadManifestError(`${what} contains a forbidden character`)
  for (const segment of path.split('/')) checkSegment(segment, what)
}

/** What every name and path segment must be: not empty, not too long, not "." or "..". */
function checkSegment(segment: string, what: string): void {
  if (segment.length === 0) throw new BadManifestError(`${what} is empty`)
  if (byteLengthOver(segment, MAX_NAME_BYTES)) throw new BadManifestError(`${what} is longer than ${MAX_NAME_BYTES} bytes`)
  if (segment === '.' || segment === '..') throw new BadManifestError(`${what} may not be "." or ".."`)
}

/** Whether `text`'s UTF-8 form is longer than `limit`; a UTF-16 unit is at most 3 UTF-8 bytes, so short text needs no count. */
function byteLengthOver(text: string, limit: number): boolean {
  return text.length * 3 > limit && Buffer.byteLength(text, 'utf8') > limit
}

/** Byte-wise comparison of UTF-8 forms: the manifest's canonical file order. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/**
 * Checks that paths are strictly increasing (so unique) and that no path is also used
 * as a directory of another ("a" beside "a/b"). In byte order every path under "a/" sits
 * in one run after "a", so one binary search per path finds whether that run is empty:
 * the check stays O(n log n) comparisons however deep the paths go (looking up each
 * ancestor directory by name would hash O(depth²) bytes a path).
 */
export function checkFileSet(paths: string[]): void {
  const forms = paths.map((path) => {
    checkRelativePath(path)
    return Buffer.from(path, 'utf8')
  })
  for (let i = 1; i < forms.length; i++) {
    if (Buffer.compare(forms[i - 1], forms[i]) >= 0) {
      throw new BadManifestError(`file paths must be unique and in byte order ("${paths[i - 1]}", "${paths[i]}")`)
    }
  }
  for (let i = 0; i < forms.length; i++) {
    const dir = Buffer.concat([forms[i], SLASH])
    const next = firstAtOrAfter(forms, dir, i + 1)
    if (next < forms.length && forms[next].subarray(0, dir.length).equals(dir)) {
      throw new BadManifestError(`"${paths[i]}" is both a file and a directory`)
    }
  }
}

const SLASH = Buffer.from('/')

/** The first index at or after `from` whose form is not below `key` (forms sorted). */
function firstAtOrAfter(forms: Buffer[], key: Buffer, from: number): number {
  let lo = from
  let hi = forms.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (Buffer.compare(forms[mid], key) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
