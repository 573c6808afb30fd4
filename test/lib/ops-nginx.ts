import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitUntil } from '@shoal/testkit'
import type { Cleanup } from '@shoal/testkit'
import { findProgram, runProgram } from './ops-programs.js'

/** The nginx site as shipped. */
export const NGINX_SITE = fileURLToPath(new URL('../../../deploy/nginx-shoal-tracker.conf', import.meta.url))

export interface SiteSettings {
  serverName: string
  /** Ports on 127.0.0.1. */
  httpPort: number
  httpsPort: number
  certificate: string
  certificateKey: string
  /** The tracker's port on 127.0.0.1. */
  upstreamPort: number
}

/** Replaces `from` (which must occur exactly `count` times, so the template cannot drift unseen). */
function replaceExactly(text: string, from: string, to: string, count: number): string {
  const found = text.split(from).length - 1
  if (found !== count) throw new Error(`nginx site: expected ${count} × "${from}", found ${found}`)
  return text.replaceAll(from, to)
}

/**
 * The shipped site with what an operator changes (server name, certificate paths) and what
 * a test must change (loopback listen ports instead of 80/443, no IPv6, the upstream port).
 */
export function renderSite(template: string, s: SiteSettings): string {
  const edits: [string, string, number][] = [
    ['server_name tracker.example.org;', `server_name ${s.serverName};`, 2],
    ['    listen [::]:80;\n', '', 1],
    ['    listen [::]:443 ssl;\n', '', 1],
    ['listen 80;', `listen 127.0.0.1:${s.httpPort};`, 1],
    ['listen 443 ssl;', `listen 127.0.0.1:${s.httpsPort} ssl;`, 1],
    ['/etc/letsencrypt/live/tracker.example.org/fullchain.pem', s.certificate, 1],
    ['/etc/letsencrypt/live/tracker.example.org/privkey.pem', s.certificateKey, 1],
    ['server 127.0.0.1:7070;', `server 127.0.0.1:${s.upstreamPort};`, 1],
  ]
  return edits.reduce((text, [from, to, count]) => replaceExactly(text, from, to, count), template)
}

/** A main nginx.conf that keeps every file nginx writes inside `dir` and includes `site`. */
export function mainConfig(dir: string, site: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(dir, 'temp', k)};`).join('\n')
  return [
    'daemon off;',
    'worker_processes 1;',
    // As root, workers would switch to an unprivileged user that cannot read this temp folder.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    temp,
    `  include ${site};`,
    '}',
    '',
  ].join('\n')
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it right away). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** nginx masters still running; stopped if this process exits first (SIGTERM: they stop their workers). */
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGTERM')
})

export interface RunningNginx {
  httpPort: number
  httpsPort: number
  /** https://127.0.0.1:<port> */
  httpsUrl: string
  /** stderr so far. */
  output(): string
}

/**
 * Renders the shipped site for `upstreamPort`, checks it with `nginx -t`, runs nginx in the
 * foreground (stopped at teardown) and resolves once `probe` succeeds through it.
 */
export async function startNginx(t: Cleanup, dir: string, site: Omit<SiteSettings, 'httpPort' | 'httpsPort'>, probe: (httpsUrl: string) => Promise<boolean>): Promise<RunningNginx> {
  const nginx = findProgram('nginx')!
  const settings = { ...site, httpPort: await freePort(), httpsPort: await freePort() }
  for (const k of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, 'temp', k), { recursive: true })
  await writeFile(join(dir, 'site.conf'), renderSite(await readFile(NGINX_SITE, 'utf8'), settings))
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, mainConfig(dir, join(dir, 'site.conf')))
  const args = ['-p', `${dir}/`, '-e', 'stderr', '-c', conf]
  const check = await runProgram(nginx, ['-t', '-q', ...args])
  if (check.code !== 0) throw new Error(`nginx -t rejects the rendered site:\n${check.stderr}`)

  const child = spawn(nginx, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    live.delete(child)
  })
  const httpsUrl = `https://127.0.0.1:${settings.httpsPort}`
  // nginx says nothing when ready, so ask through it (bounded).
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`)
    return probe(httpsUrl).catch(() => false)
  }, { timeoutMs: 10_000, what: 'nginx to proxy to the tracker' })
  return { httpPort: settings.httpPort, httpsPort: settings.httpsPort, httpsUrl, output: () => stderr }
}
