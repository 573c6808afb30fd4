import { request } from 'node:http'
import { ErrorCode, isErrorCode, ShoalError } from '@shoal/protocol'
import type { ContentStatus, GetOptions, PeerStatus, ShareOptions, ShareResult } from '../peer.js'
import { readDaemonFile } from './daemon-file.js'
import type { DaemonFile } from './daemon-file.js'

/** Talks to a running daemon's control API, found through `<data-dir>/daemon.json`. */
export class ControlClient {
  private constructor(readonly dataDir: string, readonly daemon: DaemonFile) {}

  /** Rejects with a message saying how to start the daemon when none is running. */
  static async connect(dataDir: string): Promise<ControlClient> {
    const daemon = await readDaemonFile(dataDir)
    if (daemon === undefined) throw notRunning(dataDir)
    return new ControlClient(dataDir, daemon)
  }

  status(): Promise<PeerStatus> {
    return this.call('GET', '/v1/status')
  }

  content(id: string): Promise<ContentStatus> {
    return this.call('GET', `/v1/contents/${encodeURIComponent(id)}`)
  }

  share(path: string, options: ShareOptions = {}): Promise<ShareResult> {
    return this.call('POST', '/v1/share', { path, ...options })
  }

  get(link: string, options: GetOptions = {}): Promise<ContentStatus> {
    return this.call('POST', '/v1/get', { link, ...options })
  }

  pause(id: string): Promise<ContentStatus> {
    return this.call('POST', `/v1/contents/${encodeURIComponent(id)}/pause`)
  }

  resume(id: string): Promise<ContentStatus> {
    return this.call('POST', `/v1/contents/${encodeURIComponent(id)}/resume`)
  }

  async remove(id: string, deleteFiles = false): Promise<void> {
    await this.call('DELETE', `/v1/contents/${encodeURIComponent(id)}${deleteFiles ? '?deleteFiles=1' : ''}`)
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await send(`${this.daemon.url}${path}`, method, this.daemon.token, body === undefined ? undefined : JSON.stringify(body))
      .catch((err: NodeJS.ErrnoException) => {
        // Refused: nothing listens where daemon.json says, so the daemon that wrote it is gone.
        if (err.code === 'ECONNREFUSED') throw notRunning(this.dataDir)
        const code = err.code !== undefined && !err.message.includes(err.code) ? ` (${err.code})` : ''
        throw new ShoalError(ErrorCode.UNREACHABLE, `lost the daemon at ${this.daemon.url}: ${err.message}${code}`)
      })
    let payload: { error?: { code?: string; message?: string } } = {}
    try {
      payload = JSON.parse(answer.text) as typeof payload
    } catch {
      // said below by the status
    }
    if (answer.status >= 200 && answer.status < 300) return payload as T
    const code = isErrorCode(payload?.error?.code) ? payload.error.code : ErrorCode.INTERNAL
    throw new ShoalError(code, payload?.error?.message ?? `daemon answered ${answer.status}`)
  }
}

/**
 * One request to the control API and its whole answer. No time limit: a share hashes the
 * whole content before it answers, which for a large folder takes longer than any fixed
 * limit (fetch gives up after 300 s without headers).
 */
function send(url: string, method: string, token: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    // No kept-alive sockets: the daemon may close an idle one just as the next request goes out.
    const req = request(url, { method, headers, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

function notRunning(dataDir: string): ShoalError {
  return new ShoalError(ErrorCode.NOT_FOUND, `no daemon is running for ${dataDir}; start one with: shoal daemon --data-dir ${dataDir}`)
}
