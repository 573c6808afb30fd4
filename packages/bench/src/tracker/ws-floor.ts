import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { binaryFrame, trackerCodec } from '@shoal/protocol'
import { WebSocketServer } from 'ws'
import { readUint } from './msgpack-uint.js'

/** Type codes of the frames the floor tells apart: the first element after the array header. */
const REGISTER = 1
const FIND = 8

/**
 * The transport's share of a Shoal tracker's cost: the same HTTP server and `ws` settings,
 * the same corked one-write-per-read replies, but no decoding, no index and no encoding —
 * a register gets a canned `registered`, a find a canned `sources` of `replyBytes` (the
 * size a real tracker sends at this scale), a have nothing. Not a tracker; a floor.
 */
export async function startWsFloor(replyBytes: number): Promise<{ url: string; messages: () => number; close: () => Promise<void> }> {
  // Any HTTP request (the driver's stats GETs) gets an empty JSON object.
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false })
  let messages = 0
  const sockets = new Set<Socket>()
  wss.on('connection', (ws, req) => {
    const socket = req.socket as Socket
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    let corked = false
    const send = (frame: Buffer): void => {
      if (!corked) {
        corked = true
        socket.cork()
        process.nextTick(() => {
          corked = false
          socket.uncork()
        })
      }
      socket.write(frame)
    }
    ws.on('message', (data: Buffer) => {
      messages++
      const at = data[0] === 0xdc ? 3 : 1
      const code = data[at]
      if (code !== REGISTER && code !== FIND) return
      const id = readUint(data, at + 1)
      send(code === REGISTER ? binaryFrame(registered(id)) : sources(id, replyBytes))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages: () => messages,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function registered(id: number): Uint8Array {
  return trackerCodec.encode({ type: 'registered', id, peerId: new Uint8Array(16), address: '127.0.0.1:6881', ttl: 60 })
}

/** A frame of `bytes` payload whose start reads as a `sources` reply with the id the generator looks for. */
function sources(id: number, bytes: number): Buffer {
  const payload = Buffer.alloc(bytes)
  payload[0] = 0x95
  payload[1] = 21
  payload[2] = 0xce
  payload.writeUInt32BE(id >>> 0, 3)
  return binaryFrame(payload)
}
