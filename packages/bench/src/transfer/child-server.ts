import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./child-servers.js', import.meta.url))

/** One of the baseline servers of child-servers.ts, running in its own process. */
export class ChildServer {
  private constructor(private readonly child: ChildProcess, private readonly lines: AsyncIterator<string>, readonly port: number) {}

  static async start(mode: string, arg: string): Promise<ChildServer> {
    const child = spawn(process.execPath, [SCRIPT, mode, arg], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    const first = await lines.next()
    if (first.done) throw new Error(`baseline server ${mode} did not start`)
    return new ChildServer(child, lines, (JSON.parse(first.value) as { port: number }).port)
  }

  /** Stops the server and returns the CPU time it used, in seconds. */
  async stop(): Promise<number> {
    this.child.stdin!.end()
    const next = await this.lines.next()
    await once(this.child, 'exit')
    return next.done ? 0 : (JSON.parse(next.value) as { cpuMs: number }).cpuMs / 1000
  }
}
