import { cp, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { Bitfield, chunkRange, ErrorCode, fromHex, manifestChunkCount, ShoalError } from '@shoal/protocol'
import type { PeerAddress } from '@shoal/protocol'
import type { AddContent, ChunkStore, ContentPatch, ContentRecord, ContentRole } from './chunk-store.js'
import { checkHeld, checkWrite, ContentEntries, newEntry } from './content-entry.js'
import type { ContentEntry } from './content-entry.js'
import type { FileStamp } from './file-set.js'
import { GroupCommit } from './group-commit.js'
import { verifyChunk } from './verify.js'
import type { ChunkDigest } from './verify.js'

/** What LevelDB keeps per content besides the manifest and the verified bitfield. */
interface StoredState {
  root: string
  role: ContentRole
  trackers: string[]
  /** Absent in stores written before links could name peers. */
  peers?: PeerAddress[]
  paused: boolean
  error?: string
  /** Each file's size and mtime when the store last committed to it. */
  stamps: (FileStamp | null)[]
}

interface DiskEntry extends ContentEntry {
  stamps: (FileStamp | null)[]
  /** A shared content: when each file's stamp was last compared (Date.now()). */
  stampCheckedAt: number[]
  /** A shared file found changed is being hashed again; reads of the content wait for it. */
  rechecking?: Promise<void>
  /** Writes under way (hashing, writing or committing), awaited before the entry goes. */
  writes: Set<Promise<void>>
}

interface Written {
  entry: DiskEntry
  chunk: number
  files: number[]
}

export interface DiskChunkStoreInit {
  /** Folder of the LevelDB database holding contents and verified-chunk state. */
  location: string
  /**
   * Called once per content whose files changed while the store was closed, and whenever a
   * shared file is found changed while it is open (`live`).
   */
  onRecheck?: (id: string, rechecked: number, lost: number, live: boolean) => void
  /** A shared file's size and mtime are compared before a read at most this often. Default 1 s. */
  sharedCheckMs?: number
  /** Called when the store opens read-only because its disk is full. */
  onReadOnly?: (why: string) => void
  /** While read-only, a write tries to open the database again at most this often. Default 5 s. */
  reopenMs?: number
  /** Hashes the chunks given to `write`; default: on the spot. */
  digest?: ChunkDigest
}

type Db = Level<string, unknown>

/**
 * Chunk data lives in the content's own files (shared ones read in place, downloads at
 * their output path); LevelDB records which chunks are verified. A chunk is marked only
 * after its bytes are fdatasync'd, so a crash at any moment never leaves a chunk marked
 * that is not on disk.
 *
 * Opening LevelDB writes (a new log and manifest), which a full disk refuses. Then the store
 * reads a copy of the database in the temp folder and runs read-only: it serves what it has,
 * and every change fails with ERR_NO_SPACE until the database opens again.
 */
export class DiskChunkStore implements ChunkStore {
  private readonly db: Db
  private readonly records
  private readonly manifests
  private readonly haves
  private readonly entries = new ContentEntries<DiskEntry>()
  private readonly commits = new GroupCommit<Written>((written) => this.commit(written), (w) => w.entry)
  /** Why changes are refused while the disk is full. */
  private readOnly: ShoalError | undefined
  private reopenAt = 0
  /** Set by `close`: writes are refused from then on. */
  private closing = false
  /** Saves of contents' state, one at a time, so each saves what the one before left in memory. */
  private saving: Promise<unknown> = Promise.resolve()

  constructor(private readonly init: DiskChunkStoreInit) {
    this.db = new Level<string, unknown>(init.location, { valueEncoding: 'json' })
    ;({ records: this.records, manifests: this.manifests, haves: this.haves } = sublevels(this.db))
  }

  async open(): Promise<void> {
    try {
      await this.db.open()
    } catch (err) {
      if (!isNoSpace(err)) throw this.openError(err)
      await this.openReadOnly(err as Error)
      return
    }
    await this.loadFrom(this.db)
  }

  /** Whether changes are refused because the disk is full. */
  get readOnlyReason(): string | undefined {
    return this.readOnly?.message
  }

  /** Loads every content from a copy of the database in the temp folder, and refuses changes. */
  private async openReadOnly(cause: Error): Promise<void> {
    const why = causeOf(cause)
    this.readOnly = new ShoalError(ErrorCode.NO_SPACE, `no space left on the device of ${this.init.location}: the store is read-only until there is room (${why})`, { cause })
    this.reopenAt = Date.now() + (this.init.reopenMs ?? 5000)
    const copy = await mkdtemp(join(tmpdir(), 'shoal-store-'))
    let snapshot: Db | undefined
    try {
      await cp(this.init.location, copy, { recursive: true })
      // Only now: a Level opens itself as soon as it is made.
      snapshot = new Level<string, unknown>(copy, { valueEncoding: 'json' })
      await snapshot.open()
      await this.loadFrom(snapshot)
    } catch (err) {
      throw new ShoalError(ErrorCode.NO_SPACE, `cannot open ${this.init.location} (${why}), nor read a copy of it in ${tmpdir()}: ${causeOf(err)}`, { cause: err })
    } finally {
      await snapshot?.close()
      await rm(copy, { recursive: true, force: true })
    }
    this.init.onReadOnly?.(this.readOnly.message)
  }

  /** Throws while read-only, unless the database now opens (there is room again). */
  private async writable(): Promise<void> {
    if (this.readOnly === undefined) return
    if (Date.now() < this.reopenAt) throw this.readOnly
    this.reopenAt = Date.now() + (this.init.reopenMs ?? 5000)
    try {
      await this.db.open()
    } catch {
      throw this.readOnly
    }
    this.readOnly = undefined
  }

  private openError(err: unknown): ShoalError {
    const locked = (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED'
    const why = locked ? 'another daemon is using it' : causeOf(err)
    return new ShoalError(ErrorCode.INVALID_ARGUMENT, `cannot open ${this.init.location}: ${why}`, { cause: err })
  }

  private async loadFrom(db: Db): Promise<void> {
    const stored = sublevels(db)
    for await (const [id, state] of stored.records.iterator()) await this.load(id, state, stored)
  }

  list(): ContentRecord[] {
    return this.entries.records()
  }

  get(id: string): ContentRecord | undefined {
    return this.entries.get(id)?.record
  }

  async add(input: AddContent): Promise<ContentRecord> {
    const fresh = newEntry(input)
    const existing = this.entries.get(fresh.record.id)
    if (existing !== undefined) return existing.record
    await this.writable()
    if (input.role === 'download') await fresh.files.create(true)
    const entry: DiskEntry = { ...fresh, stamps: await this.stampAll(fresh), stampCheckedAt: [], writes: new Set() }
    await this.db.batch()
      .put(entry.record.id, this.stateOf(entry), { sublevel: this.records })
      .put(entry.record.id, entry.record.manifestBytes, { sublevel: this.manifests })
      .put(entry.record.id, entry.record.have.bytes, { sublevel: this.haves })
      .write()
    this.entries.set(entry.record.id, entry)
    return entry.record
  }

  /** Changes the record only once the change is saved: a failed update leaves it as it was. */
  async update(id: string, patch: ContentPatch): Promise<void> {
    const entry = this.entries.mustGet(id)
    await this.writable()
    await this.inTurn(async () => {
      await this.records.put(id, this.stateOf(entry, patch))
      Object.assign(entry.record, patch)
    })
  }

  private inTurn<T>(save: () => Promise<T>): Promise<T> {
    const turn = this.saving.then(save)
    this.saving = turn.catch(() => undefined)
    return turn
  }

  async read(id: string, chunk: number, into?: Buffer): Promise<Buffer> {
    const entry = this.entries.mustGet(id)
    // Held is judged after the check: a changed shared file may have lost the chunk.
    if (entry.record.role === 'seed') await this.checkShared(entry, chunk)
    return entry.files.read(chunk, checkHeld(entry, chunk), into)
  }

  /**
   * A shared file is read in place, so the user may change it while it is shared: before a
   * read, each file the chunk touches has its size and mtime compared with its stamp (at
   * most once per sharedCheckMs). A changed file's chunks are hashed again, those that no
   * longer match are no longer held, and no read of the content goes on meanwhile.
   */
  private async checkShared(entry: DiskEntry, chunk: number): Promise<void> {
    await entry.rechecking
    const now = Date.now()
    for (const { fileIndex } of entry.files.layout.spans(chunk)) {
      if (now - (entry.stampCheckedAt[fileIndex] ?? 0) < (this.init.sharedCheckMs ?? 1000)) continue
      entry.stampCheckedAt[fileIndex] = now
      const stamp = await entry.files.stamp(fileIndex).catch(() => null)
      if (sameStamp(stamp, entry.stamps[fileIndex])) continue
      entry.rechecking ??= this.recheckShared(entry, fileIndex).finally(() => (entry.rechecking = undefined))
      await entry.rechecking
    }
  }

  private async recheckShared(entry: DiskEntry, fileIndex: number): Promise<void> {
    const { rechecked, lost } = await this.recheck(entry, [fileIndex])
    entry.stamps[fileIndex] = await entry.files.stamp(fileIndex).catch(() => null)
    if (lost > 0) entry.record.error = noLongerMatching(lost)
    if (this.readOnly === undefined && !this.closing) {
      await this.inTurn(() => this.saveHeld(entry)).catch(() => undefined)
    }
    this.init.onRecheck?.(entry.record.id, rechecked, lost, true)
  }

  async write(id: string, chunk: number, data: Uint8Array): Promise<void> {
    if (this.closing) throw new ShoalError(ErrorCode.NOT_FOUND, 'the store is closed')
    const entry = this.entries.mustGet(id)
    const written = this.writeChunk(entry, chunk, data)
    entry.writes.add(written)
    try {
      await written
    } finally {
      entry.writes.delete(written)
    }
  }

  private async writeChunk(entry: DiskEntry, chunk: number, data: Uint8Array): Promise<void> {
    if (!(await checkWrite(entry, chunk, data, this.init.digest))) return
    await this.writable()
    this.mustHold(entry)
    const files = await entry.files.write(chunk, data)
    await this.commits.submit({ entry, chunk, files })
    // A commit skips a content removed meanwhile: then nothing was recorded.
    this.mustHold(entry)
  }

  /** Throws unless `entry` is still one of this store's contents. */
  private mustHold(entry: DiskEntry): void {
    if (this.entries.get(entry.record.id) !== entry) throw new ShoalError(ErrorCode.NOT_FOUND, `content ${entry.record.id} was removed`)
  }

  async remove(id: string): Promise<void> {
    const entry = this.entries.mustGet(id)
    await this.writable()
    this.entries.delete(id)
    await Promise.allSettled(entry.writes)
    await this.commits.drained()
    await this.inTurn(() => this.db.batch()
      .del(id, { sublevel: this.records })
      .del(id, { sublevel: this.manifests })
      .del(id, { sublevel: this.haves })
      .write())
    await entry.files.close()
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.allSettled([...this.entries.values()].flatMap((e) => [...e.writes]))
    await this.commits.drained()
    await this.entries.closeAll()
    await this.db.close()
  }

  /**
   * Commits chunks written to one content: one fdatasync per touched file covers them all;
   * only then are they marked.
   */
  private async commit(written: Written[]): Promise<void> {
    const { entry } = written[0]
    if (this.entries.get(entry.record.id) !== entry) return
    const files = [...new Set(written.flatMap((w) => w.files))]
    await Promise.all(files.map((f) => entry.files.datasync(f)))
    for (const f of files) entry.stamps[f] = await entry.files.stamp(f)
    const have = entry.record.have.clone()
    for (const w of written) have.set(w.chunk)
    await this.inTurn(() => this.saveHeld(entry, have))
    for (const w of written) entry.record.have.set(w.chunk)
  }

  /**
   * Trusts the stored bitfield for files whose size and mtime are as recorded; chunks
   * touching any other file are hashed again and dropped if they no longer match.
   */
  private async load(id: string, state: StoredState, stored: Sublevels): Promise<void> {
    const manifestBytes = await stored.manifests.get(id)
    if (manifestBytes === undefined || fromHex(id, 32) === undefined) return
    const fresh = newEntry({ manifestBytes, root: state.root, role: state.role, trackers: state.trackers, peers: state.peers })
    const have = await stored.haves.get(id)
    const chunks = manifestChunkCount(fresh.record.manifest)
    Object.assign(fresh.record, { paused: state.paused, error: state.error, have: toBitfield(chunks, have) })
    const entry: DiskEntry = { ...fresh, stamps: state.stamps, stampCheckedAt: [], writes: new Set() }
    const changed = await this.changedFiles(entry)
    if (changed.length > 0) {
      if (entry.record.role === 'download') await entry.files.create(false).catch(() => undefined)
      const { rechecked, lost } = await this.recheck(entry, changed)
      entry.stamps = await this.stampAll(entry)
      if (lost > 0 && entry.record.role === 'seed') entry.record.error = noLongerMatching(lost)
      // Read-only, the result stays in memory: the next open checks again.
      if (this.readOnly === undefined) await this.saveHeld(entry)
      this.init.onRecheck?.(id, rechecked, lost, false)
    }
    this.entries.set(id, entry)
  }

  /** Writes a content's state and which chunks are verified (`have`, by default the record's) in one batch. */
  private saveHeld(entry: DiskEntry, have: Bitfield = entry.record.have): Promise<void> {
    return this.db.batch()
      .put(entry.record.id, this.stateOf(entry), { sublevel: this.records })
      .put(entry.record.id, have.bytes, { sublevel: this.haves })
      .write()
  }

  private async changedFiles(entry: DiskEntry): Promise<number[]> {
    const now = await this.stampAll(entry)
    return now.flatMap((s, f) => (sameStamp(s, entry.stamps[f]) ? [] : [f]))
  }

  private async recheck(entry: DiskEntry, files: number[]): Promise<{ rechecked: number; lost: number }> {
    const chunks = new Set<number>()
    for (const f of files) {
      const range = entry.files.layout.chunksOf(f)
      if (range === undefined) continue
      for (let c = range.first; c <= range.last; c++) if (entry.record.have.has(c)) chunks.add(c)
    }
    let lost = 0
    for (const c of chunks) {
      const ok = await entry.files.read(c, chunkLength(entry, c)).then(
        (data) => verifyChunk(entry.record.manifest, c, data).then(() => true),
        () => false,
      ).catch(() => false)
      if (!ok) {
        entry.record.have.clear(c)
        lost++
      }
    }
    return { rechecked: chunks.size, lost }
  }

  private async stampAll(entry: ContentEntry): Promise<(FileStamp | null)[]> {
    const out: (FileStamp | null)[] = []
    for (let f = 0; f < entry.files.layout.fileCount; f++) {
      out.push(await stat(entry.files.layout.pathOf(f)).then(({ size, mtimeMs }) => ({ size, mtimeMs }), () => null))
    }
    return out
  }

  private stateOf(entry: DiskEntry, patch: ContentPatch = {}): StoredState {
    const { root, role, trackers, peers, paused, error } = { ...entry.record, ...patch }
    return { root, role, trackers, peers, paused, error, stamps: entry.stamps }
  }
}

type Sublevels = ReturnType<typeof sublevels>

function sublevels(db: Db) {
  return {
    records: db.sublevel<string, StoredState>('content', { valueEncoding: 'json' }),
    manifests: db.sublevel<string, Uint8Array>('manifest', { valueEncoding: 'view' }),
    haves: db.sublevel<string, Uint8Array>('have', { valueEncoding: 'view' }),
  }
}

/** The innermost message of an error and its causes: LevelDB wraps the real one. */
function causeOf(err: unknown): string {
  let e = err as { message?: string; cause?: unknown }
  while (e.cause instanceof Error) e = e.cause
  return e.message ?? String(err)
}

function isNoSpace(err: unknown): boolean {
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined; e !== undefined; e = e.cause as typeof e) {
    if (e.code === 'ENOSPC' || /no space left/i.test(e.message ?? '')) return true
    if (!(e.cause instanceof Error)) return false
  }
  return false
}

function chunkLength(entry: ContentEntry, chunk: number): number {
  return chunkRange(entry.record.manifest, chunk).length
}

function toBitfield(size: number, bytes: Uint8Array | undefined): Bitfield {
  try {
    return bytes === undefined ? new Bitfield(size) : Bitfield.fromWire(size, bytes)
  } catch {
    return new Bitfield(size)
  }
}

/** Whether a file's size and mtime are still those stamped (a missing file or stamp never is). */
function sameStamp(now: FileStamp | null, was: FileStamp | null | undefined): boolean {
  return now !== null && was !== null && was !== undefined && now.size === was.size && now.mtimeMs === was.mtimeMs
}

/** The error a shared content gets when some of its chunks no longer match its files. */
function noLongerMatching(lost: number): string {
  return `${lost} ${lost === 1 ? 'chunk no longer matches' : 'chunks no longer match'} the shared files; the rest is still served`
}
