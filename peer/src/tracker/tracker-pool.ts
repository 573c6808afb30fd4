import { createHmac } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { ErrorCode, fromHex, ShoalError } from '@shoal/protocol'
import type { HeldContent } from '@shoal/protocol'
import type { ChunkStore, ContentRecord } from '../store/chunk-store.js'
import { TrackerClient } from './tracker-client.js'
import type { TrackerClientInit, TrackerState } from './tracker-client.js'

/** What every tracker client shares, plus the store whose contents they announce. */
export interface TrackerPoolInit extends Pick<TrackerClientInit,
  'peerId' | 'key' | 'port' | 'ca' | 'load' | 'backoff' | 'requestTimeoutMs' | 'heartbeatMs' | 'haveDelayMs' | 'log'> {
  store: ChunkStore
  token?: string
  /** The daemon's own trackers (`--tracker`). */
  ownTrackers?: string[]
}

export interface TrackerStatus {
  url: string
  state: TrackerState
  error?: string
}

/**
 * One tracker client per tracker URL any content names. Each tracker is told exactly the
 * contents that name it; contents that are paused are not announced.
 *
 * A share link can name any tracker, so secrets go only where the user sent them: the
 * tracker token only to the daemon's own trackers and to those its shares name; the peer
 * key as it is only to its own trackers, every other tracker getting a key derived for it
 * alone (a tracker that keeps what it is sent cannot take this peer's id on another).
 */
export class TrackerPool extends EventEmitter<{ registered: [string] }> {
  private readonly clients = new Map<string, TrackerClient>()
  private closed = false

  constructor(private readonly init: TrackerPoolInit) {
    super()
  }

  /**
   * The client for `url`, created and started on first use, and again after the tracker
   * refused it for good (a share may since have made it trusted with the token).
   */
  ensure(url: string): TrackerClient {
    // A request still under way when the daemon stops must not open connections after it.
    if (this.closed) throw new ShoalError(ErrorCode.UNREACHABLE, `cannot reach tracker ${url}: the daemon is shutting down`)
    let client = this.clients.get(url)
    if (client !== undefined && client.state !== 'stopped') return client
    client?.close()
    const { peerId, port, ca, load, backoff, requestTimeoutMs, heartbeatMs, haveDelayMs, log } = this.init
    client = new TrackerClient({
      url, peerId, key: this.keyFor(url), port, token: () => this.tokenFor(url), ca, load, backoff, requestTimeoutMs, heartbeatMs, haveDelayMs, log,
      contents: () => this.announced(url).map(held),
      manifests: () => this.announced(url).map((r) => r.manifestBytes),
    })
    client.on('registered', () => this.emit('registered', url))
    this.clients.set(url, client)
    client.start()
    return client
  }

  /** Registered clients among `urls`. */
  registered(urls: string[]): TrackerClient[] {
    return urls.flatMap((u) => {
      const c = this.clients.get(u)
      return c?.registered ? [c] : []
    })
  }

  /** Re-registers with every tracker after contents were added, removed, paused or resumed. */
  resync(): void {
    for (const c of this.clients.values()) c.resync()
  }

  have(record: ContentRecord, chunks: number[]): void {
    const content = fromHex(record.id, 32)!
    for (const url of record.trackers) this.clients.get(url)?.have(content, chunks)
  }

  /** Closes clients no content and no default names any more. */
  prune(keep: Iterable<string>): void {
    const wanted = new Set(keep)
    for (const r of this.init.store.list()) for (const u of r.trackers) wanted.add(u)
    for (const [url, c] of this.clients) {
      if (wanted.has(url)) continue
      c.close()
      this.clients.delete(url)
    }
  }

  status(): TrackerStatus[] {
    return [...this.clients.values()].map((c) => ({ url: c.url, state: c.state, error: c.lastError }))
  }

  close(): void {
    this.closed = true
    for (const c of this.clients.values()) c.close()
    this.clients.clear()
  }

  private isOwn(url: string): boolean {
    return this.init.ownTrackers?.includes(url) ?? false
  }

  private keyFor(url: string): Uint8Array {
    if (this.isOwn(url)) return this.init.key
    return new Uint8Array(createHmac('sha256', this.init.key).update(`shoal tracker key\0${url}`).digest().subarray(0, this.init.key.length))
  }

  private tokenFor(url: string): string | undefined {
    if (this.init.token === undefined) return undefined
    const trusted = this.isOwn(url) || this.init.store.list().some((r) => r.role === 'seed' && r.trackers.includes(url))
    return trusted ? this.init.token : undefined
  }

  private announced(url: string): ContentRecord[] {
    return this.init.store.list().filter((r) => !r.paused && r.trackers.includes(url))
  }
}

function held(r: ContentRecord): HeldContent {
  return { content: fromHex(r.id, 32)!, chunkCount: r.have.size, bitfield: r.have.bytes }
}
