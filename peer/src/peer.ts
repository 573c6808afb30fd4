import { EventEmitter } from 'node:events'
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import pLimit from 'p-limit'
import type { LimitFunction } from 'p-limit'
import {
  BadLinkError, decodeManifest, ErrorCode, errorCodeOf, formatLink, fromHex, InvalidArgumentError, manifestChunkCount, MAX_LINK_TRACKERS,
  normalizeTrackerUrl, parseLink, ShoalError, toHex,
} from '@shoal/protocol'
import type { PeerAddress, ShareLink } from '@shoal/protocol'
import { Download } from './download/download.js'
import type { SourceStatus } from './download/download.js'
import type { PeerInit } from './index.js'
import { loadIdentity } from './identity.js'
import type { Identity } from './identity.js'
import { resolveOptions } from './options.js'
import type { PeerOptions } from './options.js'
import { RateMeter } from './rate/rate-meter.js'
import { TokenBucket } from './rate/token-bucket.js'
import { manifestFromPath } from './share/manifest-from-path.js'
import type { ContentRecord } from './store/chunk-store.js'
import { ChunkHasher } from './store/chunk-hasher.js'
import { DiskChunkStore } from './store/disk-store.js'
import { deleteContentFiles } from './store/file-set.js'
import { ContentLayout } from './store/layout.js'
import { manifestFailure } from './tracker/manifest-failure.js'
import type { TrackerClient } from './tracker/tracker-client.js'
import { TrackerPool } from './tracker/tracker-pool.js'
import { trustedCas } from './tracker/trusted-cas.js'
import type { TrackerStatus } from './tracker/tracker-pool.js'
import { fetchManifestFrom } from './wire/manifest-client.js'
import { WireServer } from './wire/wire-server.js'

export type ContentState = 'downloading' | 'seeding' | 'paused' | 'failed'

export interface ContentStatus {
  id: string
  name: string
  kind: 'file' | 'directory'
  size: number
  chunks: number
  have: number
  state: ContentState
  path: string
  link: string
  /** Peers connected for this content: sources we download from plus peers we upload to. */
  peers: number
  /** Verified bytes fetched in this run of the daemon. */
  downloadedBytes: number
  /** Verified chunks fetched in this run of the daemon. */
  fetchedChunks: number
  uploadedBytes: number
  /** Bytes per second over the last few seconds. */
  downloadRate: number
  uploadRate: number
  error?: string
  /** Sources of the download in this run (those connected, or all of them once complete). */
  sources: SourceStatus[]
  /** Sources banned for sending bad data. */
  banned: string[]
}

export interface PeerStatus {
  peerId: string
  port: number
  dataDir: string
  trackers: TrackerStatus[]
  contents: ContentStatus[]
}

export interface ShareOptions {
  /** Trackers to announce to; the daemon's defaults when absent. */
  trackers?: string[]
  chunkSize?: number
}

export interface ShareResult {
  id: string
  link: string
  name: string
  size: number
  chunks: number
  /** Trackers that could not be told yet (they will be once reachable). */
  warnings: string[]
}

export interface GetOptions {
  /** Output file or folder; an existing folder receives the content under its name. */
  output?: string
  /** Folder relative outputs and the default output are resolved against. */
  cwd?: string
}

export interface PeerEvents {
  /** A chunk of a download was verified and stored: content id, chunk index. */
  verified: [string, number]
  /** A download finished: every chunk verified and stored. */
  complete: [string]
  /** A download stopped on an error (see its status). */
  failed: [string, string]
}

/** Per-content byte counters that live as long as the daemon runs. */
interface Traffic {
  up: RateMeter
}

/**
 * The peer daemon: a chunk store, a peer-wire server serving it, one tracker client per
 * tracker, and a download per incomplete content.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly options: PeerOptions
  identity!: Identity
  port = 0
  private store!: DiskChunkStore
  private readonly hasher = new ChunkHasher()
  private wire!: WireServer
  private trackers!: TrackerPool
  private readonly downloads = new Map<string, Download>()
  /** What finished downloads did in this run, for their status. */
  private readonly finished = new Map<string, { fetched: number; bytes: number; sources: SourceStatus[]; banned: string[] }>()
  private readonly traffic = new Map<string, Traffic>()
  /** Trackers a `get` under way is asking for its manifest, with how many are: not pruned meanwhile. */
  private readonly fetching = new Map<string, number>()
  private readonly limit: LimitFunction
  private readonly downloadBucket: TokenBucket

  constructor(init: PeerInit) {
    super()
    this.options = resolveOptions(init)
    this.limit = pLimit(this.options.globalInflight)
    this.downloadBucket = new TokenBucket(this.options.downloadLimit)
  }

  get peerId(): string {
    return toHex(this.identity.peerId)
  }

  get log(): PeerOptions['log'] {
    return this.options.log
  }

  async start(): Promise<void> {
    const o = this.options
    this.identity = await loadIdentity(o.dataDir)
    this.store = new DiskChunkStore({
      location: join(o.dataDir, 'db'), digest: (data) => this.hasher.digest(data),
      onRecheck: (id, rechecked, lost, live) => {
        // Chunks lost from a share need a person (share the new version); re-hashing alone does not.
        o.log[lost > 0 ? 'warn' : 'info']({ content: id, rechecked, lost }, live ? 'a shared file changed; its chunks re-hashed' : 'files changed while stopped; chunks re-hashed')
        // The trackers learn what is held now; at start they are told when they register.
        if (live && lost > 0) this.trackers.resync()
      },
      onReadOnly: (why) => o.log.warn({ dataDir: o.dataDir }, why),
    })
    await this.store.open()
    this.wire = new WireServer({
      host: o.host, port: o.port, peerId: this.identity.peerId, store: this.store, bucket: new TokenBucket(o.uploadLimit),
      maxUploads: o.maxUploads, handshakeTimeoutMs: o.connectTimeoutMs, spreadPatienceMs: o.spreadPatienceMs, log: o.log,
      maxConnections: o.maxConnections, idleTimeoutMs: o.idleTimeoutMs,
      policy: { maxInvalid: 64, maxQueued: 512, busyRetryMs: o.busyRetryMs, yieldMs: o.slotYieldMs, stallTimeoutMs: o.stallTimeoutMs },
      onUploaded: (id, bytes) => this.trafficOf(id).up.add(bytes),
    })
    try {
      this.port = await this.wire.listen()
    } catch (err) {
      await this.store.close()
      throw err
    }
    this.trackers = new TrackerPool({
      peerId: this.identity.peerId, key: this.identity.key, port: this.port, token: o.trackerToken, ownTrackers: o.trackers, ca: trustedCas(o.ca), store: this.store,
      load: () => this.wire.load, backoff: o.reconnect, requestTimeoutMs: o.trackerTimeoutMs, heartbeatMs: o.heartbeatMs,
      haveDelayMs: o.haveDelayMs, log: o.log,
    })
    this.trackers.on('registered', () => {
      for (const d of this.downloads.values()) d.trackerUp()
    })
    for (const url of o.trackers) this.trackers.ensure(url)
    for (const r of this.store.list()) {
      for (const url of r.trackers) this.trackers.ensure(url)
      this.startDownload(r)
    }
  }

  async share(path: string, options: ShareOptions = {}): Promise<ShareResult> {
    const trackers = this.trackerList(options.trackers)
    const built = await manifestFromPath(path, { chunkSize: options.chunkSize })
    const existing = this.store.get(built.id)
    const record = existing ?? (await this.store.add({ manifestBytes: built.bytes, root: built.root, role: 'seed', trackers }))
    // Only trackers named now: sharing again without any never spreads a content to the defaults.
    if (existing !== undefined && (options.trackers ?? []).length > 0) await this.addTrackers(existing, trackers)
    const warnings = await this.announce(record)
    const m = record.manifest
    this.log.info({ content: record.id, name: m.name, size: m.size }, 'sharing')
    return { id: record.id, link: this.linkOf(record), name: m.name, size: m.size, chunks: manifestChunkCount(m), warnings }
  }

  /** Starts fetching a share link (or returns the content if it is already here). */
  async get(linkText: string, options: GetOptions = {}): Promise<ContentStatus> {
    const link = parseLink(linkText)
    const existing = this.store.get(toHex(link.content))
    if (existing !== undefined) {
      // Held already: a second copy elsewhere is not made, and saying "done" would mislead.
      if (options.output !== undefined && !isWhereAsked(existing, options)) {
        throw new InvalidArgumentError('output', `this content is already here, at ${existing.root}; it is not copied to ${options.output}`)
      }
      return this.statusOf(existing)
    }
    // A link may name peers alone (no tracker): then a daemon without trackers of its own fetches from them.
    const peersOnly = link.trackers.length === 0 && this.options.trackers.length === 0 && (link.peers ?? []).length > 0
    const trackers = peersOnly ? [] : this.trackerList(link.trackers.length > 0 ? link.trackers : undefined)
    // The content's own link must be printable later (its status shows it); refused before anything is asked.
    formatLink({ content: link.content, trackers })
    for (const url of trackers) this.fetching.set(url, (this.fetching.get(url) ?? 0) + 1)
    const record = await this.addDownload(link, trackers, options).finally(() => {
      for (const url of trackers) {
        const left = this.fetching.get(url)! - 1
        if (left === 0) this.fetching.delete(url)
        else this.fetching.set(url, left)
      }
    }).catch((err: unknown) => {
      // Asking for the manifest made clients for the link's trackers; no content keeps them now.
      this.pruneTrackers()
      throw err
    })
    const m = record.manifest
    this.log.info({ content: record.id, name: m.name, size: m.size, path: record.root }, 'download started')
    // Every tracker the link names, not only the one that had the manifest: all of them are asked for sources and told of progress.
    for (const url of record.trackers) this.trackers.ensure(url)
    this.trackers.resync()
    this.startDownload(record)
    return this.statusOf(record)
  }

  status(): PeerStatus {
    return {
      peerId: this.peerId, port: this.port, dataDir: this.options.dataDir, trackers: this.trackers.status(),
      contents: this.store.list().map((r) => this.statusOf(r)),
    }
  }

  content(idOrPrefix: string): ContentStatus {
    return this.statusOf(this.find(idOrPrefix))
  }

  async pause(idOrPrefix: string): Promise<ContentStatus> {
    const record = this.find(idOrPrefix)
    await this.store.update(record.id, { paused: true })
    this.stopTransfers(record.id)
    this.trackers.resync()
    return this.statusOf(record)
  }

  async resume(idOrPrefix: string): Promise<ContentStatus> {
    const record = this.find(idOrPrefix)
    await this.store.update(record.id, { paused: false, error: undefined })
    this.trackers.resync()
    this.startDownload(record)
    return this.statusOf(record)
  }

  /**
   * Forgets a content; `deleteFiles` also deletes what a download wrote: its files, and its
   * folders once empty (never shared files, nor anything else a folder holds).
   */
  async remove(idOrPrefix: string, deleteFiles = false): Promise<void> {
    const record = this.find(idOrPrefix)
    this.stopTransfers(record.id)
    await this.store.remove(record.id)
    this.traffic.delete(record.id)
    this.finished.delete(record.id)
    this.trackers.resync()
    this.pruneTrackers()
    if (deleteFiles && record.role === 'download') await deleteContentFiles(new ContentLayout(record.manifest, record.root))
    this.log.info({ content: record.id }, 'removed')
  }

  async close(): Promise<void> {
    for (const d of this.downloads.values()) d.stop()
    this.downloads.clear()
    this.trackers?.close()
    await this.wire?.close()
    await this.store?.close()
    await this.hasher.close()
  }

  private startDownload(record: ContentRecord): void {
    // Shared files are never written: a shared content whose files changed only serves what still matches.
    if (record.role !== 'download' || record.paused || record.have.complete || this.downloads.has(record.id)) return
    // A failed download waits for `resume`, which clears the error: what failed (a full disk) needs a person.
    if (record.error !== undefined) return
    const o = this.options
    const download: Download = new Download({
      record, store: this.store, peerId: this.identity.peerId, trackers: this.trackers, peers: record.peers, limit: this.limit,
      bucket: this.downloadBucket, log: o.log,
      options: {
        perPeerInflight: o.perPeerInflight, requestTimeoutMs: o.requestTimeoutMs, connectTimeoutMs: o.connectTimeoutMs,
        banAfter: o.banAfter, maxPeers: o.maxPeersPerDownload, findIntervalMs: o.findIntervalMs, maxInvalid: 64,
        storeBacklogBytes: o.storeBacklogBytes,
      },
      onVerified: (chunk) => {
        this.wire.announce(record.id, [chunk])
        this.trackers.have(record, [chunk])
        this.emit('verified', record.id, chunk)
      },
      onDone: () => {
        this.downloads.delete(record.id)
        this.finished.set(record.id, { fetched: download.fetched, bytes: download.meter.total, sources: download.sources(), banned: download.banned() })
        this.log.info({ content: record.id, name: record.manifest.name, fetched: download.fetched }, 'download complete')
        this.emit('complete', record.id)
      },
      onFailed: (err) => void this.fail(record, err),
    })
    this.downloads.set(record.id, download)
    download.start()
  }

  private async fail(record: ContentRecord, err: Error): Promise<void> {
    this.log.error({ content: record.id, err: err.message }, 'download failed')
    this.downloads.get(record.id)?.stop()
    this.downloads.delete(record.id)
    // Nothing runs for it any more, so the status says so even when the disk cannot keep it.
    await this.store.update(record.id, { error: err.message }).catch(() => (record.error = err.message))
    this.emit('failed', record.id, err.message)
  }

  private stopTransfers(id: string): void {
    this.downloads.get(id)?.stop()
    this.downloads.delete(id)
    this.wire.drop(id)
  }

  private async addTrackers(record: ContentRecord, urls: string[]): Promise<void> {
    const added = urls.filter((u) => !record.trackers.includes(u))
    if (added.length === 0) return
    const trackers = [...record.trackers, ...added]
    if (trackers.length > MAX_LINK_TRACKERS) throw tooManyTrackers(`${record.trackers.length} named already and ${added.length} more`)
    await this.store.update(record.id, { trackers })
  }

  /** Publishes a shared content's manifest to its trackers and registers it; says which could not be told. */
  private async announce(record: ContentRecord): Promise<string[]> {
    const clients = record.trackers.map((u) => this.trackers.ensure(u))
    const results = await Promise.all(clients.map(async (c) => {
      try {
        await c.ready(this.options.trackerTimeoutMs)
        const published = c.request({ type: 'publish', manifest: record.manifestBytes })
        c.resync()
        await published
        return undefined
      } catch (err) {
        return announceWarning(c, err)
      }
    }))
    return results.filter((w): w is string => w !== undefined)
  }

  private async addDownload(link: ShareLink, trackers: string[], options: GetOptions): Promise<ContentRecord> {
    const manifestBytes = await this.fetchManifest(link.content, trackers, link.peers ?? [])
    const { name } = decodeManifest(manifestBytes, link.content)
    // The name a link shows is what a person agreed to fetch: a content named otherwise is not it.
    if (link.name !== undefined && link.name !== name) throw new BadLinkError(`the link names "${link.name}", but the content is named "${name}"`)
    const root = await outputPath(name, options)
    return this.store.add({ manifestBytes, root, role: 'download', trackers, peers: link.peers })
  }

  /** The manifest from the first tracker, else the first peer, that has it, checked against the content id; else why not, with the most telling code. */
  private async fetchManifest(content: Uint8Array, trackers: string[], peers: PeerAddress[]): Promise<Uint8Array> {
    const failures: ShoalError[] = []
    for (const url of trackers) {
      const client = this.trackers.ensure(url)
      try {
        await client.ready(this.options.trackerTimeoutMs)
        const reply = await client.request({ type: 'get-manifest', content })
        decodeManifest(reply.manifest, content)
        return reply.manifest
      } catch (err) {
        const code = errorCodeOf(err)
        const message = (err as Error).message
        const why = code === ErrorCode.NOT_FOUND ? `${url} does not know this content` : message.includes(url) ? message : `${url}: ${message}`
        failures.push(new ShoalError(code, why, { cause: err }))
      }
    }
    for (const peer of peers) {
      try {
        return await fetchManifestFrom(peer, content, this.options.connectTimeoutMs)
      } catch (err) {
        failures.push(new ShoalError(errorCodeOf(err), (err as Error).message, { cause: err }))
      }
    }
    throw manifestFailure(failures)
  }

  /** Closes tracker clients that no content, no default and no `get` under way needs. */
  private pruneTrackers(): void {
    this.trackers.prune([...this.options.trackers, ...this.fetching.keys()])
  }

  private trackerList(given: string[] | undefined): string[] {
    const list = given !== undefined && given.length > 0 ? given : this.options.trackers
    if (list.length === 0) throw new InvalidArgumentError('trackers', 'no tracker given and the daemon has no default (--tracker)')
    const trackers = [...new Set(list.map(normalizeTrackerUrl))]
    if (trackers.length > MAX_LINK_TRACKERS) throw tooManyTrackers(`${trackers.length} given`)
    return trackers
  }

  private find(idOrPrefix: string): ContentRecord {
    if (!/^[0-9a-f]+$/i.test(idOrPrefix)) throw new InvalidArgumentError('id', `${idOrPrefix} is not a content id nor the start of one (hex digits)`)
    const matches = this.store.list().filter((r) => r.id.startsWith(idOrPrefix.toLowerCase()))
    if (matches.length === 0) throw new ShoalError(ErrorCode.NOT_FOUND, `no content ${idOrPrefix}`)
    if (matches.length > 1) throw new InvalidArgumentError('id', `${idOrPrefix} matches ${matches.length} contents`)
    return matches[0]
  }

  private trafficOf(id: string): Traffic {
    let t = this.traffic.get(id)
    if (t === undefined) this.traffic.set(id, (t = { up: new RateMeter() }))
    return t
  }

  /**
   * The content's share link. One that would be too long with the name (a long name, long
   * tracker URLs) goes without it: a status must never fail for its link.
   */
  private linkOf(record: ContentRecord): string {
    const content = fromHex(record.id, 32)!
    try {
      return formatLink({ content, trackers: record.trackers, name: record.manifest.name })
    } catch {
      return formatLink({ content, trackers: record.trackers })
    }
  }

  private statusOf(record: ContentRecord): ContentStatus {
    const m = record.manifest
    const download = this.downloads.get(record.id)
    const done = this.finished.get(record.id)
    const up = this.trafficOf(record.id).up
    const state: ContentState = record.paused ? 'paused'
      : record.error !== undefined ? 'failed'
        : record.have.complete || record.role === 'seed' ? 'seeding' : 'downloading'
    return {
      id: record.id, name: m.name, kind: m.kind, size: m.size, chunks: record.have.size, have: record.have.count, state,
      path: record.root, link: this.linkOf(record),
      peers: (download?.peers ?? 0) + this.wire.connections(record.id),
      downloadedBytes: download?.meter.total ?? done?.bytes ?? 0,
      fetchedChunks: download?.fetched ?? done?.fetched ?? 0,
      uploadedBytes: up.total, downloadRate: download?.meter.rate ?? 0, uploadRate: up.rate,
      error: record.error, sources: download?.sources() ?? done?.sources ?? [], banned: download?.banned() ?? done?.banned ?? [],
    }
  }
}

/** Whether `-o` names where `record` already is (as a full path, or as the folder holding it). */
function isWhereAsked(record: ContentRecord, options: GetOptions): boolean {
  const out = resolve(options.cwd ?? process.cwd(), options.output!)
  return out === record.root || join(out, record.manifest.name) === record.root
}

/**
 * Where a download goes: an existing folder, or a path ending in a separator, receives it
 * under its own name; nothing existing is overwritten or added to (the store refuses).
 */
async function outputPath(name: string, options: GetOptions): Promise<string> {
  const base = options.cwd ?? process.cwd()
  const out = options.output === undefined ? base : resolve(base, options.output)
  const isDir = options.output === undefined || /[\\/]$/.test(options.output) || (await stat(out).then((s) => s.isDirectory(), () => false))
  if (!isDir) return out
  // A name the sender chose lands in a folder only if it is not a hidden one: ".ssh" or
  // ".bashrc" in a home folder would configure the user's programs.
  if (name.startsWith('.')) throw new InvalidArgumentError('output', `the content is named "${name}", a hidden name; give the whole output path with -o to save it`)
  return join(out, name)
}

function tooManyTrackers(detail: string): InvalidArgumentError {
  return new InvalidArgumentError('trackers', `a content names at most ${MAX_LINK_TRACKERS} trackers (${detail})`)
}

/** Why a tracker was not told of a share, and what becomes of it there, by the kind of failure. */
function announceWarning(client: TrackerClient, err: unknown): string {
  const why = (err as Error).message
  if (client.state === 'stopped') return `${why}; ${client.url} refused this daemon, so it is not told until the daemon restarts with the right --tracker-token`
  if (NOT_REACHED.has(errorCodeOf(err))) return `${why}; it will be announced once the tracker is reachable`
  return `${client.url} refused to publish the content (${why}); peers cannot find it through that tracker`
}

/** Failures to reach a tracker or to hear from it in time, as opposed to its refusals. */
const NOT_REACHED = new Set<ErrorCode>([ErrorCode.UNREACHABLE, ErrorCode.TIMEOUT, ErrorCode.NOT_REGISTERED])
