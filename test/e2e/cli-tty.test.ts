import { execFile } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { SHOAL_CLI } from '@shoal/testkit'
import { startSwarm } from '../lib/swarm.js'

/** Quoted for sh. */
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/** Runs `shoal <args>` on a real terminal (a pty from util-linux `script`, 120 columns) and returns what the terminal showed. */
function onTerminal(args: string[], env: Record<string, string>): Promise<{ code: number; screen: string }> {
  const command = `stty cols 120 rows 40 && exec ${[process.execPath, SHOAL_CLI, ...args].map(quote).join(' ')}`
  return new Promise((resolve) => {
    execFile('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env, TERM: 'xterm' }, timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, screen: stdout })
    })
  })
}

t.test('shoal get on a terminal: a progress bar with percent, speed, ETA and peers, then the final line', async (t) => {
  // 3 MiB at 1 MiB/s: the bar is redrawn several times before the end.
  const { dir, peer, shared } = await startSwarm(t, { size: 3 * 1024 * 1024, seederLimit: '1M' })
  const b = await peer()
  const out = join(dir, 'b.bin')
  const { code, screen } = await onTerminal(['get', shared.link, '-o', out], { SHOAL_DATA_DIR: b.dataDir })
  t.equal(code, 0, 'exit 0')
  // Each redraw starts at the line's beginning (a cursor move), then other escapes are dropped.
  const frames = screen.split(/\r|\n|\x1b\[\d*G/).map((f) => f.replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|[78])/g, '').trim()).filter((f) => /ETA/.test(f))
  const bar = /^[█░]+ (\d+)% \| (\d+(?:\.\d+)? (?:B|KiB|MiB|GiB)\/s) \| ETA (.+?) \| (\d+) peers \| payload\.bin$/
  const parsed = frames.map((f) => bar.exec(f)).filter((m) => m !== null)
  t.ok(parsed.length >= 2, `the bar was drawn ${parsed.length} times: ${JSON.stringify(frames.slice(0, 3))}`)
  const percents = parsed.map((m) => Number(m[1]))
  t.ok(percents.some((p) => p > 0 && p < 100), `an intermediate percentage was shown: ${percents.join(' ')}`)
  t.equal(percents.at(-1), 100, 'it ends at 100%')
  t.ok(parsed.some((m) => !/^0 B\/s$/.test(m[2])), `a speed was shown: ${parsed.map((m) => m[2]).join(', ')}`)
  t.ok(parsed.some((m) => /^\d+s$/.test(m[3])), `an ETA in seconds was shown: ${parsed.map((m) => m[3]).join(' ')}`)
  t.ok(parsed.some((m) => m[4] === '1'), 'one peer (the seeder)')
  t.match(screen, new RegExp(`done: ${out.replaceAll('/', '\\/').replaceAll('.', '\\.')} \\(3\\.00 MiB, 12 chunks verified\\)\\r?\\n`), 'the final line')
})
