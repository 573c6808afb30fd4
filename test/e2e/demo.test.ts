import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { tempDir, waitUntil, within } from '@shoal/testkit'

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages', 'demo', 'dist', 'src', 'demo.js')

/** The demo in its own process group (as a terminal runs it), with its output collected. */
async function startDemo(t: Test, args: string[] = []) {
  const cwd = await tempDir(t, 'shoal-demo-')
  const child = spawn(process.execPath, [DEMO, ...args], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  const output = { out: '', err: '' }
  child.stdout!.on('data', (d: Buffer) => (output.out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output.err += d.toString()))
  t.teardown(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL')
  })
  return { cwd, child, exited, output }
}

t.test('the demo (the quick start) downloads on every peer, checks the hashes and cleans up', async (t) => {
  const demo = await startDemo(t, ['--exit'])
  const [code] = await within(demo.exited, 120_000, () => new Error(`the demo did not finish; output:\n${demo.output.out}`))
  t.equal(code, 0, 'exit 0')
  t.equal(demo.output.out.match(/SHA-256 matches/g)?.length, 3, 'three downloads, each with the right hash')
  t.match(demo.output.out, /tracker stats: http:\/\/127\.0\.0\.1:\d+\/stats/)
  t.notOk(existsSync(join(demo.cwd, '.shoal-demo')), 'its folder is removed')
})

t.test('Ctrl-C during the demo stops everything, says no failure and removes its folder', async (t) => {
  const demo = await startDemo(t)
  await waitUntil(() => demo.output.out.includes('link   shoal:'), { timeoutMs: 60_000, what: 'the demo sharing its file' })
  // A terminal's Ctrl-C goes to the whole group: the daemons get it too.
  process.kill(-demo.child.pid!, 'SIGINT')
  const [code] = await within(demo.exited, 30_000, () => new Error('the demo did not stop'))
  t.equal(code, 130)
  t.notMatch(demo.output.err, /demo failed/, `nothing said to have failed: ${demo.output.err}`)
  t.notOk(existsSync(join(demo.cwd, '.shoal-demo')), 'its folder is removed')
})
