import { join } from 'node:path'
import { chunkRange, lastAtOrBefore } from '@shoal/protocol'
import type { FileSpan, Manifest } from '@shoal/protocol'

/**
 * Maps chunks to file spans with a binary search over file start offsets, so a content
 * of many files costs O(log files) per chunk instead of a walk from the first file.
 */
export class ContentLayout {
  private readonly starts: number[] = []

  constructor(readonly manifest: Manifest, readonly root: string) {
    let offset = 0
    for (const f of manifest.files) {
      this.starts.push(offset)
      offset += f.size
    }
  }

  get fileCount(): number {
    return this.manifest.files.length
  }

  pathOf(fileIndex: number): string {
    const m = this.manifest
    return m.kind === 'file' ? this.root : join(this.root, ...m.files[fileIndex].path.split('/'))
  }

  spans(chunk: number): FileSpan[] {
    const { offset, length } = chunkRange(this.manifest, chunk)
    const end = offset + length
    const spans: FileSpan[] = []
    for (let f = lastAtOrBefore(this.starts, offset); f < this.starts.length && this.starts[f] < end; f++) {
      const fileEnd = this.starts[f] + this.manifest.files[f].size
      const from = Math.max(offset, this.starts[f])
      const to = Math.min(end, fileEnd)
      if (to > from) spans.push({ fileIndex: f, fileOffset: from - this.starts[f], chunkOffset: from - offset, length: to - from })
    }
    return spans
  }

  /** A folder content's folders, deepest first, its root last; none for a single file. */
  folders(): string[] {
    if (this.manifest.kind === 'file') return []
    const inside = new Set<string>()
    for (const f of this.manifest.files) {
      // Parents from the nearest up; a parent already seen has its own parents in the set
      // too, so files in one folder cost one lookup each, not a rebuild of every ancestor.
      for (let end = f.path.lastIndexOf('/'); end > 0; end = f.path.lastIndexOf('/', end - 1)) {
        const folder = f.path.slice(0, end)
        if (inside.has(folder)) break
        inside.add(folder)
      }
    }
    // A folder's path is longer than its parent's, so longest first is deepest first.
    const deepestFirst = [...inside].sort((a, b) => b.length - a.length)
    return [...deepestFirst.map((p) => join(this.root, ...p.split('/'))), this.root]
  }

  /** Chunks that cover any byte of file `fileIndex`. */
  chunksOf(fileIndex: number): { first: number; last: number } | undefined {
    const size = this.manifest.files[fileIndex].size
    if (size === 0) return undefined
    const start = this.starts[fileIndex]
    const chunkSize = this.manifest.chunkSize
    return { first: Math.floor(start / chunkSize), last: Math.floor((start + size - 1) / chunkSize) }
  }
}
