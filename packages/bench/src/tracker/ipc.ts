import type { ChildProcess } from 'node:child_process'

/** Which tracker a run drives. */
export type Implementation = 'shoal' | 'ws-floor' | 'bittorrent-tracker'

/** What a tracker host reports about its own process. */
export interface TrackerUsage {
  /** process.cpuUsage() in microseconds. */
  cpu: { user: number; system: number }
  rss: number
  peakRss: number
  /** V8 heap in use, and memory outside it (buffers), from process.memoryUsage(). */
  heapUsed: number
  external: number
  /** Frames the tracker received (Shoal only; bittorrent-tracker has no such counter). */
  messages: number | undefined
}

export interface LoadSettings {
  implementation: Implementation
  url: string
  connections: number
  contents: number
  chunks: number
  inFlight: number
  /** Shoal only: `have` frames sent with each `find`. */
  havesPerFind: number
  /** Shoal only: whether finds ask for each source's chunk list (the peer daemon does not). */
  chunkLists: boolean
  /** Source addresses 127.0.0.2 … 127.0.0.(1 + n), so ephemeral ports never run out. */
  sourceAddresses: number
}

/** What the load generator measured since its last mark. */
export interface LoadReport {
  seconds: number
  /** Frames sent (Shoal: have + find; bittorrent-tracker: announce). */
  sent: number
  /** Replies received (Shoal: sources; bittorrent-tracker: announce responses). */
  replies: number
  errors: number
  replyBytes: number
  /** Latency histogram buckets (see LatencyHistogram). */
  latency: number[]
  cpu: { user: number; system: number }
}

/** Sends `message` to a child and resolves with its next message (children answer one request at a time). */
export function ask<T>(child: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before answering ${JSON.stringify(message).slice(0, 60)}`))
    child.once('exit', onExit)
    child.once('message', (reply) => {
      child.off('exit', onExit)
      resolve(reply as T)
    })
    child.send(message)
  })
}

/** In a child: answers each request from the parent with `handle`'s result. */
export function serve(handle: (message: { cmd: string } & Record<string, unknown>) => Promise<unknown>): void {
  process.on('message', (message) => {
    handle(message as { cmd: string }).then(
      (reply) => process.send?.(reply ?? {}),
      (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
        process.exit(1)
      },
    )
  })
}
