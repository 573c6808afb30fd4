import { once } from 'node:events'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { ErrorCode, ShoalError } from '@shoal/protocol'
import type { Logger } from 'pino'
import type { ChunkStore } from '../store/chunk-store.js'
import type { TokenBucket } from '../rate/token-bucket.js'
import { FramedSocket } from './framed-socket.js'
import { UploadSession } from './upload-session.js'
import type { UploadPolicy } from './upload-session.js'
import { SpreadPolicy } from './spread-policy.js'
import { UploadSlots } from './upload-slots.js'

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
  /** While saturated, a peer asking for an over-served chunk is refused for up to this long. */
  spreadPatienceMs: number
  log: Logger
  onUploaded: (content: string, bytes: number) => void
}

/** Accepts peer-wire connections and serves chunks from the store. */
export class WireServer {
  private readonly server: Server
  private readonly slots: UploadSlots
  private readonly spread: SpreadPolicy
  /** Open sessions by content id, to announce new chunks to. */
  private readonly sessions = new Map<string, Set<UploadSession>>()
  private readonly sockets = new Set<FramedSocket>()

  constructor(private readonly init: WireServerInit) {
    this.slots = new UploadSlots(init.maxUploads)
    this.spread = new SpreadPolicy(init.spreadPatienceMs)
    this.server = createServer((socket) => this.accept(new FramedSocket(socket)))
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
    const closed = new Promise((resolve) => this.server.close(resolve))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  private accept(socket: FramedSocket): void {
    this.sockets.add(socket)
    const timer = setTimeout(() => socket.destroy(), this.init.handshakeTimeoutMs)
    const session = new UploadSession({
      socket, peerId: this.init.peerId, store: this.init.store, slots: this.slots, spread: this.spread, bucket: this.init.bucket,
      policy: this.init.policy, log: this.init.log, onUploaded: this.init.onUploaded,
      onOpen: (s) => {
        clearTimeout(timer)
        let set = this.sessions.get(s.content!)
        if (set === undefined) this.sessions.set(s.content!, (set = new Set()))
        set.add(s)
      },
    })
    socket.on('close', () => {
      clearTimeout(timer)
      this.sockets.delete(socket)
      if (session.content === undefined) return
      const set = this.sessions.get(session.content)
      set?.delete(session)
      if (set?.size === 0) this.sessions.delete(session.content)
    })
  }
}
