import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChildNode } from '@shoal/testkit'
import type { Cleanup } from '@shoal/testkit'

/** The built `shoal-tracker` CLI of this checkout. */
export const TRACKER_CLI = join(dirname(fileURLToPath(import.meta.resolve('@shoal/tracker'))), 'cli.js')

/**
 * A `shoal-tracker` started with exactly the flags and environment given (the testkit's
 * tracker has a fixed set of flags; these tests need others, such as --trust-proxy, or
 * none at all, as a systemd unit starts it). With --tls-cert the URLs are wss:// and https://.
 */
export async function spawnTracker(t: Cleanup, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildNode; url: string; httpUrl: string }> {
  const child = new ChildNode(TRACKER_CLI, args, env)
  t.teardown(() => child.kill())
  const url = await child.waitForLine((l) => /^tracker (wss?:\/\/\S+)$/.exec(l)?.[1], 15_000, 'tracker start')
  return { child, url, httpUrl: url.replace(/^ws/, 'http') }
}

/** The JSON log entry of a peer daemon named `msg` (seen already or coming). */
export function daemonLog(child: ChildNode, msg: string, what: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  return child.waitForLine((line) => {
    if (!line.startsWith('{')) return undefined
    const entry = JSON.parse(line) as Record<string, unknown>
    return entry.msg === msg ? entry : undefined
  }, timeoutMs, what)
}
