import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { Bitfield, chunkRange, decodeManifest, manifestChunkCount, PROTOCOL_VERSION, toHex } from '@shoal/protocol'
import type { Manifest, PeerMessage } from '@shoal/protocol'
import { FramedSocket } from '@shoal/peer'
import { RawTrackerClient } from './fault-tracker-client.js'

/**
 * How a lying peer lies. All of them register every chunk with the tracker.
 * - `random`: serves random bytes of the right length;
 * - `other-chunk`: serves the real bytes of the next chunk (valid data, wrong place);
 * - `zeros`: holds nothing and serves zeros;
 * - `short`: serves pieces one byte short;
 * - `long-bitfield`: answers the handshake with a bitfield longer than the content.
 */
export type Lie = 'random' | 'other-chunk' | 'zeros' | 'short' | 'long-bitfield'

/**
 * An adversary, not a mock: it registers with a real tracker as holding every chunk of a
 * content and answers requests with the lie it was made for. It uses the protocol package
 * and the peer's framing only.
 */
export class LyingPeer {
  /** Chunks it was asked for. */
  readonly asked: number[] = []
  /** Handshakes it answered: how often a downloader came to it. */
  handshakes = 0
  private server!: Server
  /** Accepted connections, ended by close() (a server closes only once they are all gone). */
  private readonly sockets = new Set<Socket>()
  private tracker!: RawTrackerClient
  private manifest!: Manifest

  constructor(readonly lie: Lie, private readonly data?: Buffer) {}

  get peerId(): string {
    return toHex(this.tracker.peerId)
  }

  async start(trackerUrl: string, content: Uint8Array): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
      this.serve(new FramedSocket(socket), content)
    })
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    this.tracker = await RawTrackerClient.connect(trackerUrl)
    const port = (this.server.address() as { port: number }).port
    await this.tracker.register([], port)
    const reply = await this.tracker.request({ type: 'get-manifest', content })
    if (reply.type !== 'manifest') throw new Error(`no manifest for the liar: ${JSON.stringify(reply)}`)
    this.manifest = decodeManifest(reply.manifest, content)
    const chunkCount = manifestChunkCount(this.manifest)
    await this.tracker.register([{ content, chunkCount, bitfield: Bitfield.full(chunkCount).bytes }], port)
  }

  /** Whether the tracker still has it registered (its connection is open). */
  get connected(): boolean {
    return this.tracker.isOpen
  }

  async close(): Promise<void> {
    this.tracker?.terminate()
    for (const socket of this.sockets) socket.destroy()
    await new Promise((resolve) => this.server?.close(resolve))
  }

  private serve(socket: FramedSocket, content: Uint8Array): void {
    socket.on('message', (msg: PeerMessage) => {
      if (msg.type === 'handshake') {
        this.handshakes++
        const chunkCount = manifestChunkCount(this.manifest)
        socket.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: this.tracker.peerId, content })
        const bitfield = this.lie === 'long-bitfield' ? new Uint8Array(Math.ceil(chunkCount / 8) + 4).fill(0xff) : Bitfield.full(chunkCount).bytes
        socket.send({ type: 'bitfield', bitfield })
      } else if (msg.type === 'request') {
        this.asked.push(msg.chunk)
        socket.sendPiece({ id: msg.id, chunk: msg.chunk, offset: msg.offset, data: this.bytesFor(msg.chunk, msg.offset, msg.length) })
      }
    })
  }

  private bytesFor(chunk: number, offset: number, length: number): Uint8Array {
    switch (this.lie) {
      case 'random':
        return randomBytes(length)
      case 'other-chunk': {
        const other = (chunk + 1) % manifestChunkCount(this.manifest)
        const at = chunkRange(this.manifest, other).offset + offset
        const out = Buffer.alloc(length)
        this.data!.copy(out, 0, at, at + length)
        return out
      }
      case 'short':
        return randomBytes(Math.max(0, length - 1))
      default:
        return new Uint8Array(length)
    }
  }
}
