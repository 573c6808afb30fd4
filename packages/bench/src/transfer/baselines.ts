import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { get } from 'node:http'
import { connect } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { ChildServer } from './child-server.js'
import { cpuSeconds } from './cpu.js'

export interface Rate {
  mbPerSec: number
  seconds: number
  /** CPU seconds of the receiving and the sending side. */
  clientCpu: number
  serverCpu: number
}

function rate(bytes: number, seconds: number, clientCpu: number, serverCpu: number): Rate {
  return { mbPerSec: bytes / seconds / 1e6, seconds, clientCpu, serverCpu }
}

/** Raw loopback TCP: one connection, a server process writing 1 MiB buffers, the client discarding them. */
export async function rawTcp(bytes: number): Promise<Rate> {
  const server = await ChildServer.start('raw', String(bytes))
  const cpu0 = cpuSeconds()
  const t0 = performance.now()
  const socket = connect(server.port, '127.0.0.1')
  let got = 0
  socket.on('data', (d) => (got += d.length))
  await once(socket, 'end')
  const seconds = (performance.now() - t0) / 1000
  const clientCpu = cpuSeconds() - cpu0
  return rate(got, seconds, clientCpu, await server.stop())
}

/** SHA-256 on one core, over 1 MiB buffers, as a chunk is hashed. */
export function sha256Rate(bytes: number): Rate {
  const block = randomBytes(1024 * 1024)
  const cpu0 = cpuSeconds()
  const t0 = performance.now()
  for (let done = 0; done < bytes; done += block.length) createHash('sha256').update(block).digest()
  const seconds = (performance.now() - t0) / 1000
  return rate(bytes, seconds, cpuSeconds() - cpu0, 0)
}

/** A plain HTTP download of `file` (Node http server process) written to `out`. */
export async function httpDownload(file: string, out: string): Promise<Rate> {
  const server = await ChildServer.start('http', file)
  const cpu0 = cpuSeconds()
  const t0 = performance.now()
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => get(`http://127.0.0.1:${server.port}/`, resolve).on('error', reject))
  let bytes = 0
  res.on('data', (d: Buffer) => (bytes += d.length))
  await pipeline(res, createWriteStream(out, { highWaterMark: 1024 * 1024 }))
  const seconds = (performance.now() - t0) / 1000
  const clientCpu = cpuSeconds() - cpu0
  return rate(bytes, seconds, clientCpu, await server.stop())
}
