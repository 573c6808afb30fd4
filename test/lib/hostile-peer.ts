import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import WebSocket from 'ws'
import { Bitfield, chunkRange, decodeManifest, manifestChunkCount, PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { HeldContent, Manifest, PeerMessage, TrackerMessage, TrackerRequest } from '@shoal/protocol'
import { FramedSocket } from '@shoal/peer'

/**
 * An adversary, not a mock: it registers with a real tracker as holding every chunk of a
 * content and answers every request with random bytes of the right length. Written
 * against the protocol package only, so it shares no code path with the peer it attacks.
 */
export class HostilePeer {
  readonly peerId = new Uint8Array(randomBytes(16))
  readonly served: number[] = []
  private server!: Server
  private ws!: WebSocket
  private manifest!: Manifest

  get peerIdHex(): string {
    return Buffer.from(this.peerId).toString('hex')
  }

  /** Fetches the manifest like any peer would, then registers as holding all of it. */
  async start(trackerUrl: string, content: Uint8Array): Promise<void> {
    this.server = createServer((socket) => this.serve(new FramedSocket(socket), content))
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    const port = (this.server.address() as { port: number }).port
    this.ws = new WebSocket(trackerUrl, { perMessageDeflate: false })
    await once(this.ws, 'open')
    const register = (contents: HeldContent[]) => this.ask({ type: 'register', id: 1, version: PROTOCOL_VERSION, peerId: this.peerId, key: new Uint8Array(16), port, contents })
    await register([])
    const reply = await this.ask({ type: 'get-manifest', id: 2, content })
    if (reply.type !== 'manifest') throw new Error(`hostile peer got no manifest: ${JSON.stringify(reply)}`)
    this.manifest = decodeManifest(reply.manifest, content)
    const chunkCount = manifestChunkCount(this.manifest)
    const registered = await register([{ content, chunkCount, bitfield: Bitfield.full(chunkCount).bytes }])
    if (registered.type !== 'registered') throw new Error(`hostile peer not registered: ${JSON.stringify(registered)}`)
  }

  async close(): Promise<void> {
    this.ws?.terminate()
    await new Promise((resolve) => this.server?.close(resolve))
  }

  private async ask(msg: TrackerRequest): Promise<TrackerMessage> {
    this.ws.send(trackerCodec.encode(msg))
    const [data] = await once(this.ws, 'message')
    return trackerCodec.decode(data as Buffer)
  }

  private serve(socket: FramedSocket, content: Uint8Array): void {
    socket.on('message', (msg: PeerMessage) => {
      if (msg.type === 'handshake') {
        socket.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: this.peerId, content })
        socket.send({ type: 'bitfield', bitfield: Bitfield.full(manifestChunkCount(this.manifest)).bytes })
      } else if (msg.type === 'request') {
        const length = Math.min(msg.length, chunkRange(this.manifest, msg.chunk).length - msg.offset)
        this.served.push(msg.chunk)
        socket.sendPiece({ id: msg.id, chunk: msg.chunk, offset: msg.offset, data: randomBytes(length) })
      }
    })
  }
}
