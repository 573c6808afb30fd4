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
    let res: Response
    try {
      res = await fetch(`${this.daemon.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.daemon.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch {
      throw notRunning(this.dataDir)
    }
    const payload = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }
    if (res.ok) return payload as T
    const code = isErrorCode(payload.error?.code) ? payload.error.code : ErrorCode.INTERNAL
    throw new ShoalError(code, payload.error?.message ?? `daemon answered ${res.status}`)
  }
}

function notRunning(dataDir: string): ShoalError {
  return new ShoalError(ErrorCode.NOT_FOUND, `no daemon is running for ${dataDir}; start one with: shoal daemon --data-dir ${dataDir}`)
}
