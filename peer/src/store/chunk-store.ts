import type { Bitfield, Manifest, PeerAddress } from '@shoal/protocol'

/**
 * Where a content's bytes live: `seed` content is read in place from files that were
 * already there when it was shared; `download` content is written by this peer.
 */
export type ContentRole = 'seed' | 'download'

export interface ContentRecord {
  /** Content id, lowercase hex. */
  readonly id: string
  readonly manifest: Manifest
  readonly manifestBytes: Uint8Array
  /** The single file, or the folder holding the content's files. */
  readonly root: string
  readonly role: ContentRole
  /** Tracker base URLs this content is announced to. */
  trackers: string[]
  /** Peers the share link named, asked directly for chunks (none for a share). */
  readonly peers: PeerAddress[]
  paused: boolean
  /** Why the content stopped, when it did. */
  error?: string
  /** Chunks verified and on disk. Only the store changes it. */
  readonly have: Bitfield
}

export interface AddContent {
  manifestBytes: Uint8Array
  root: string
  role: ContentRole
  trackers: string[]
  /** Peers the share link named: sources tried beside the trackers' ones, kept across restarts. */
  peers?: PeerAddress[]
}

export type ContentPatch = Partial<Pick<ContentRecord, 'trackers' | 'paused' | 'error'>>

/**
 * What the daemon needs from storage. Every implementation keeps one promise: a chunk is
 * in `have` only once its bytes match the manifest hash and are stored durably.
 */
export interface ChunkStore {
  /** Loads what was stored before, re-checking files that changed behind the store's back. */
  open(): Promise<void>
  list(): ContentRecord[]
  get(id: string): ContentRecord | undefined
  /** A `seed` is taken as complete (its manifest was just built from those files). */
  add(input: AddContent): Promise<ContentRecord>
  update(id: string, patch: ContentPatch): Promise<void>
  /**
   * A verified chunk's bytes; ERR_NOT_FOUND for a chunk not held. Given `into` (at least
   * the chunk's length), a chunk read from a file is read there rather than into a fresh
   * buffer; the result may still be another buffer (one the store keeps in memory).
   */
  read(id: string, chunk: number, into?: Buffer): Promise<Buffer>
  /**
   * Checks the hash (ERR_HASH_MISMATCH), stores durably, then marks the chunk verified.
   * `data` is not read after the promise settles (the caller reuses the buffer).
   */
  write(id: string, chunk: number, data: Uint8Array): Promise<void>
  /** Forgets a content; its files stay where they are. */
  remove(id: string): Promise<void>
  close(): Promise<void>
}
