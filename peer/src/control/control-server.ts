import { timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { ErrorCode, errorCodeOf, ShoalError } from '@shoal/protocol'
import type { Logger } from 'pino'
import type { Peer } from '../peer.js'

/** Largest request body the control API reads. */
const MAX_BODY = 64 * 1024

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.AUTH]: 401,
  [ErrorCode.TOO_LARGE]: 413,
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.BAD_LINK]: 400,
  [ErrorCode.BAD_MANIFEST]: 400,
  [ErrorCode.BAD_MESSAGE]: 400,
  [ErrorCode.UNREACHABLE]: 502,
  [ErrorCode.TIMEOUT]: 504,
  [ErrorCode.NO_SPACE]: 507,
}

type Handler = (peer: Peer, body: Record<string, unknown>, params: string[], query: URLSearchParams) => Promise<unknown> | unknown

/**
 * Method, path pattern (ids are the captured group) and handler. An id is any segment: the
 * peer says what is wrong with one, which a pattern that did not match could not.
 */
const ROUTES: [string, RegExp, Handler][] = [
  ['GET', /^\/v1\/status$/, (p) => p.status()],
  ['POST', /^\/v1\/share$/, (p, b) => p.share(text(b, 'path'), { trackers: list(b, 'trackers'), chunkSize: int(b, 'chunkSize') })],
  ['POST', /^\/v1\/get$/, (p, b) => p.get(text(b, 'link'), { output: optionalText(b, 'output'), cwd: optionalText(b, 'cwd') })],
  ['GET', /^\/v1\/contents\/([^/]+)$/, (p, _b, [id]) => p.content(id)],
  ['POST', /^\/v1\/contents\/([^/]+)\/pause$/, (p, _b, [id]) => p.pause(id)],
  ['POST', /^\/v1\/contents\/([^/]+)\/resume$/, (p, _b, [id]) => p.resume(id)],
  ['DELETE', /^\/v1\/contents\/([^/]+)$/, async (p, _b, [id], q) => {
    await p.remove(id, q.get('deleteFiles') === '1')
    return { ok: true }
  }],
]

/**
 * The daemon's local control API: JSON over HTTP on 127.0.0.1, every request carrying
 * the bearer token from daemon.json.
 */
export class ControlServer {
  private readonly server: Server
  private readonly token: Buffer

  constructor(private readonly peer: Peer, token: string, private readonly log: Logger) {
    this.token = Buffer.from(token)
    this.server = createServer((req, res) => void this.handle(req, res))
  }

  /** Listens on a free port of 127.0.0.1 and returns the base URL. */
  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req.headers.authorization)) throw new ShoalError(ErrorCode.AUTH, 'missing or wrong token')
      const url = new URL(req.url ?? '/', 'http://localhost')
      for (const [method, pattern, handler] of ROUTES) {
        const match = pattern.exec(url.pathname)
        if (match === null || method !== req.method) continue
        const body = method === 'POST' ? await readJson(req) : {}
        return reply(res, 200, (await handler(this.peer, body, match.slice(1).map(decodeSegment), url.searchParams)) ?? { ok: true })
      }
      throw new ShoalError(ErrorCode.NOT_FOUND, `no route ${req.method} ${url.pathname}`)
    } catch (err) {
      const code = errorCodeOf(err)
      if (code === ErrorCode.INTERNAL) this.log.error({ err }, 'control request failed')
      reply(res, STATUS_OF[code] ?? 500, { error: { code, message: (err as Error).message } })
    }
  }

  private authorized(header: string | undefined): boolean {
    const given = Buffer.from(header?.replace(/^Bearer /, '') ?? '')
    return given.length === this.token.length && timingSafeEqual(given, this.token)
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length })
  res.end(bytes)
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req) {
    size += (part as Buffer).length
    if (size > MAX_BODY) throw new ShoalError(ErrorCode.TOO_LARGE, 'request body too large')
    parts.push(part as Buffer)
  }
  try {
    const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as unknown
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>
  } catch {
    // Reported below like any other malformed body.
  }
  throw new ShoalError(ErrorCode.BAD_MESSAGE, 'request body must be a JSON object')
}

/** A path segment as the client had it before encoding it. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new ShoalError(ErrorCode.BAD_MESSAGE, `malformed path segment ${segment}`)
  }
}

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name]
  if (typeof value !== 'string' || value.length === 0) throw new ShoalError(ErrorCode.INVALID_ARGUMENT, `${name} must be a non-empty string`)
  return value
}

function optionalText(body: Record<string, unknown>, name: string): string | undefined {
  return body[name] === undefined ? undefined : text(body, name)
}

function list(body: Record<string, unknown>, name: string): string[] | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new ShoalError(ErrorCode.INVALID_ARGUMENT, `${name} must be a list of strings`)
  }
  return value as string[]
}

function int(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ShoalError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer`)
  return value
}
