import { once } from 'node:events'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { ErrorCode, MAX_PEER_CLIENT_FRAME, ShoalError } from '@shoal/protocol'
import type { Logger } from 'pino'
import type { ChunkStore } from '../store/chunk-store.js'
import type { TokenBucket } from '../rate/token-bucket.js'
import { BufferPool } from './buffer-pool.js'
import { FramedSocket } from './framed-socket.js'
import { UploadSession } from './upload-session.js'
import type { UploadPolicy } from './upload-session.js'
import { SpreadPolicy } from './spread-policy.js'
import { UploadSlots } from './upload-slots.js'

/** Free read buffers kept per chunk size: the socket queues of a few busy uploads. */
const READ_POOL_BYTES = 32 * 1024 * 1024

export interface WireServerInit {
  host: string
  port: number
  peerId: Uint8Array
  store: ChunkStore
  bucket: TokenBucket
  maxUploads: number
  policy: UploadPolicy
  /** A connection must complete its handshake this soon. */
  handshakeTimeoutMs: number
  /**
   * Connections past their handshake at once; a new one beyond this replaces the longest idle,
   * or is refused if none is idle. Twice as many may be waiting for their handshake (the oldest
   * goes first).
   */
  maxConnections: number
  /** A connection asked nothing of for this long is closed. */
  idleTimeoutMs: number
  /** While saturated, a peer asking for an over-served chunk is refused for up to this long. */
  spreadPatienceMs: number
  /** A connection that would have more than this unsent is not reading and is closed. Default MAX_UNSENT_BYTES. */
  maxUnsentBytes?: number
  log: Logger
  onUploaded: (content: string, bytes: number) => void
}

/**
 * Accepts peer-wire connections and serves chunks from the store. Open connections are
 * capped and idle ones closed, so connections that handshake and go quiet cannot use up
 * the daemon's file descriptors.
 */
export class WireServer {
  private readonly server: Server
  private readonly slots: UploadSlots<UploadSession>
  private readonly spread: SpreadPolicy
  /** Open sessions by content id, to announce new chunks to. */
  private readonly sessions = new Map<string, Set<UploadSession>>()
  /** Every open connection, with its session. */
  private readonly open = new Map<FramedSocket, UploadSession>()
  /** Connections still waiting for their handshake, oldest first. */
  private readonly pending = new Set<FramedSocket>()
  private readonly sweeper: NodeJS.Timeout
  /** Read buffers by chunk size, shared by every upload. */
  private readonly readPools = new Map<number, BufferPool>()

  constructor(private readonly init: WireServerInit) {
    this.slots = new UploadSlots(init.maxUploads)
    this.spread = new SpreadPolicy(init.spreadPatienceMs)
    this.server = createServer((socket) => this.admit(socket))
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(10, init.idleTimeoutMs / 4)).unref()
  }

  /** Listens and returns the bound port. */
  async listen(): Promise<number> {
    this.server.listen(this.init.port, this.init.host)
    try {
      await once(this.server, 'listening')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const why = code === 'EADDRINUSE' ? 'it is in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message
      throw new ShoalError(ErrorCode.INVALID_ARGUMENT, `cannot listen on ${this.init.host}:${this.init.port}: ${why}`, { cause: err })
    }
    // From here on an error is a failed accept (out of file descriptors, say): the server
    // keeps listening, and an unhandled 'error' event would end the daemon.
    this.server.on('error', (err) => this.init.log.error({ err }, 'could not accept a peer-wire connection'))
    return (this.server.address() as { port: number }).port
  }

  /** Share of upload slots in use, 0..1, for heartbeats. */
  get load(): number {
    return Math.min(1, this.slots.active / this.slots.max)
  }

  /** Sends `have` to every connection of the content. */
  announce(content: string, chunks: number[]): void {
    for (const s of this.sessions.get(content) ?? []) s.announce(chunks)
  }

  /** Ends every connection for a content no longer served. */
  drop(content: string): void {
    for (const s of this.sessions.get(content) ?? []) s.close()
    this.sessions.delete(content)
    this.spread.forget(content)
  }

  /** Connections currently open for a content. */
  connections(content: string): number {
    return this.sessions.get(content)?.size ?? 0
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper)
    const closed = new Promise((resolve) => this.server.close(resolve))
    for (const s of this.open.keys()) s.destroy()
    await closed
  }

  /** Takes a new connection, making room by closing the oldest that has not handshaken yet. */
  private admit(socket: Socket): void {
    if (this.pending.size >= 2 * this.init.maxConnections) {
      const oldest = this.pending.values().next().value as FramedSocket
      this.init.log.debug({ address: oldest.remoteAddress }, 'connection without handshake closed to make room')
      this.disconnect(oldest)
    }
    // Nothing a downloader sends is longer: a larger length ends the connection at once.
    this.accept(new FramedSocket(socket, { maxFrame: MAX_PEER_CLIENT_FRAME, maxUnsent: this.init.maxUnsentBytes }))
  }

  /** Lets a handshaken connection in if there is room, making room by closing the longest idle one. */
  private admitSession(socket: FramedSocket, session: UploadSession): boolean {
    this.pending.delete(socket)
    if (this.open.size - this.pending.size <= this.init.maxConnections || this.evictIdlest(session)) return true
    this.init.log.debug({ address: socket.remoteAddress, open: this.open.size }, 'connection refused: every connection is busy')
    // Told why and closing: no longer counted.
    this.open.delete(socket)
    return false
  }

  private evictIdlest(except: UploadSession): boolean {
    const now = Date.now()
    let idlest: [FramedSocket, number] | undefined
    for (const [socket, session] of this.open) {
      if (session === except || this.pending.has(socket)) continue
      const idle = session.idleFor(now)
      if (idle > 0 && (idlest === undefined || idle > idlest[1])) idlest = [socket, idle]
    }
    if (idlest === undefined) return false
    this.init.log.debug({ address: idlest[0].remoteAddress, idleMs: idlest[1] }, 'idle connection closed to make room')
    this.disconnect(idlest[0])
    return true
  }

  private closeIdle(): void {
    const now = Date.now()
    for (const [socket, session] of this.open) {
      if (session.idleFor(now) < this.init.idleTimeoutMs) continue
      this.init.log.debug({ address: socket.remoteAddress, peer: session.remotePeerId }, 'idle connection closed')
      this.disconnect(socket)
    }
  }

  /** Free blocks kept are bounded by READ_POOL_BYTES per chunk size (at least two). */
  private readPool(chunkSize: number): BufferPool {
    let pool = this.readPools.get(chunkSize)
    if (pool === undefined) this.readPools.set(chunkSize, (pool = new BufferPool(chunkSize, Math.max(2, Math.floor(READ_POOL_BYTES / chunkSize)))))
    return pool
  }

  /** Closes at once, and stops counting it at once (its 'close' comes later). */
  private disconnect(socket: FramedSocket): void {
    this.open.delete(socket)
    this.pending.delete(socket)
    socket.destroy()
  }

  private accept(socket: FramedSocket): void {
    const timer = setTimeout(() => socket.destroy(), this.init.handshakeTimeoutMs)
    const session = new UploadSession({
      socket, peerId: this.init.peerId, store: this.init.store, slots: this.slots, spread: this.spread, bucket: this.init.bucket,
      policy: this.init.policy, log: this.init.log, onUploaded: this.init.onUploaded, readPool: (size) => this.readPool(size),
      onOpen: (s) => {
        clearTimeout(timer)
        if (!this.admitSession(socket, s)) return false
        let set = this.sessions.get(s.content!)
        if (set === undefined) this.sessions.set(s.content!, (set = new Set()))
        set.add(s)
        return true
      },
    })
    this.open.set(socket, session)
    this.pending.add(socket)
    socket.on('close', () => {
      clearTimeout(timer)
      this.open.delete(socket)
      this.pending.delete(socket)
      if (session.content === undefined) return
      const set = this.sessions.get(session.content)
      set?.delete(session)
      if (set?.size === 0) this.sessions.delete(session.content)
    })
  }
}
