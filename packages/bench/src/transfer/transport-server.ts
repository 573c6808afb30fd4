/**
 * Child process of the transport measurement: serves 1 MiB pieces from memory over one
 * transport (`tcp` or `ws`) on 127.0.0.1, prints its port, and on stdin EOF prints the
 * CPU time it used and exits.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { WebSocketServer } from 'ws'
import { MAX_PEER_FRAME, peerCodec } from '@shoal/protocol'
import type { PeerMessage } from '@shoal/protocol'
import { FramedSocket, pieceFrameHead } from '@shoal/peer'
import { FRAME_HEADER_BYTES } from '@shoal/protocol'

const transport = process.argv[2]
const piece = randomBytes(Number(process.argv[3] ?? 1024 * 1024))

function listening(port: number): void {
  process.stdout.write(`${JSON.stringify({ port })}\n`)
}

if (transport === 'tcp') {
  const server = createServer((socket) => {
    const framed = new FramedSocket(socket)
    framed.on('message', (msg) => {
      if (msg.type === 'request') framed.sendPiece({ id: msg.id, chunk: msg.chunk, offset: 0, data: piece })
    })
  })
  server.listen(0, '127.0.0.1', () => listening((server.address() as { port: number }).port))
} else {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_PEER_FRAME })
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = peerCodec.decode(data as Buffer) as PeerMessage
      if (msg.type !== 'request') return
      // Two WebSocket frames of one message: the encoded head, then the payload as is.
      const head = pieceFrameHead({ id: msg.id, chunk: msg.chunk, offset: 0 }, piece.length).subarray(FRAME_HEADER_BYTES)
      ws.send(head, { binary: true, fin: false })
      ws.send(piece, { binary: true, fin: true })
    })
  })
  wss.on('listening', () => listening((wss.address() as { port: number }).port))
}

process.stdin.resume()
process.stdin.on('end', () => {
  const cpu = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`)
  process.exit(0)
})
