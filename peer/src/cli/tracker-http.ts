import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { CliExit } from './output.js'

/** The HTTP scheme of each scheme a tracker URL may have: its WebSocket and HTTP share one port. */
const HTTP_SCHEMES: Record<string, string> = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' }
/** A tracker's answers are small; anything past this is not one. */
const MAX_BODY = 8 * 1024 * 1024

/**
 * `ws://host:port/x` → `http://host:port/x/`: the base the tracker's HTTP routes are relative
 * to. The stats URL a tracker prints at start (`…/stats`) is taken for its base too.
 */
export function trackerHttpBase(text: string): URL {
  const usage = 'give the tracker as ws://, wss://, http:// or https://host[:port]'
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new CliExit(`"${text}" is not a URL; ${usage}`)
  }
  const scheme = HTTP_SCHEMES[url.protocol]
  if (scheme === undefined) throw new CliExit(`"${text}" is not a tracker URL; ${usage}`)
  if (url.username !== '' || url.password !== '') throw new CliExit('a tracker URL may not carry credentials; give --token instead')
  const path = url.protocol.startsWith('http') ? url.pathname.replace(/\/stats\/?$/, '') : url.pathname
  return new URL(`${scheme}//${url.host}${path.replace(/\/?$/, '/')}`)
}

export interface HttpAnswer {
  status: number
  body: string
}

export interface HttpGetOptions {
  /** Sent as `Authorization: Bearer …`. */
  token?: string
  /** CA certificates an https server is checked against; Node's default when absent. */
  ca?: string[]
  timeoutMs: number
}

/** GET `url`; rejects on network and TLS failures, a timeout, or a body over 8 MiB. */
export function httpGet(url: URL, o: HttpGetOptions): Promise<HttpAnswer> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  const headers: Record<string, string> = { accept: 'application/json' }
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca: o.ca, timeout: o.timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`))
        else chunks.push(chunk)
      })
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs / 1000} s`)))
    req.on('error', reject)
    req.end()
  })
}
