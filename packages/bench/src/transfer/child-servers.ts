/**
 * Child-process servers for the transfer baselines, one per run, on 127.0.0.1:
 *   raw <bytes>          pushes that many bytes on each connection, as fast as TCP takes them
 *   http <file>          serves the file with a plain Node HTTP server
 *   tcp <pieceBytes>     answers peer-wire requests with pieces from memory (length-prefixed TCP)
 *   ws <pieceBytes>      the same over WebSocket (ws with bufferutil)
 * Prints {"port"} when listening; on stdin EOF prints {"cpuMs"} and exits.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { FRAME_HEADER_BYTES, MAX_PEER_FRAME, peerCodec } from '@shoal/protocol'
import { FramedSocket, pieceFrameHead } from '@shoal/peer'

const [mode, arg] = process.argv.slice(2)

function listening(address: AddressInfo | string | null): void {
  process.stdout.write(`${JSON.stringify({ port: (address as AddressInfo).port })}\n`)
}

function servePieces(kind: 'tcp' | 'ws', piece: Buffer): void {
  if (kind === 'tcp') {
    const server = createServer((socket) => {
      const framed = new FramedSocket(socket)
      framed.on('message', (msg) => {
        if (msg.type === 'request') framed.sendPiece({ id: msg.id, chunk: msg.chunk, offset: 0, data: piece })
      })
    })
    server.listen(0, '127.0.0.1', () => listening(server.address()))
    return
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_PEER_FRAME })
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = peerCodec.decode(data as Buffer)
      if (msg.type !== 'request') return
      // One WebSocket message in two frames: the encoded head, then the payload as is.
      ws.send(pieceFrameHead({ id: msg.id, chunk: msg.chunk, offset: 0 }, piece.length).subarray(FRAME_HEADER_BYTES), { binary: true, fin: false })
      ws.send(piece, { binary: true, fin: true })
    })
  })
  wss.on('listening', () => listening(wss.address()))
}

switch (mode) {
  case 'raw': {
    const total = Number(arg)
    const block = randomBytes(1024 * 1024)
    const server = createServer((socket) => {
      let sent = 0
      const pump = (): void => {
        while (sent < total) {
          sent += block.length
          if (!socket.write(block)) return void socket.once('drain', pump)
        }
        socket.end()
      }
      pump()
    })
    server.listen(0, '127.0.0.1', () => listening(server.address()))
    break
  }
  case 'http': {
    const size = statSync(arg).size
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' })
      createReadStream(arg, { highWaterMark: 1024 * 1024 }).pipe(res)
    })
    server.listen(0, '127.0.0.1', () => listening(server.address()))
    break
  }
  default:
    servePieces(mode as 'tcp' | 'ws', randomBytes(Number(arg)))
}

process.stdin.resume()
process.stdin.on('end', () => {
  const cpu = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`)
  process.exit(0)
})
