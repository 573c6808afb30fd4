import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { chromium } from 'playwright-core'
import { Bitfield } from '@shoal/protocol'
import { startTracker, tempDir } from '@shoal/testkit'
import { findProgram, skipUnless } from '../lib/ops-programs.js'
import { RawPeer } from '../lib/ops-raw-peer.js'

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url))

/** Debian's Chromium, never a downloaded browser; flags keep it off the network but for the page. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
]

t.test('the dashboard shows the live figures in headless Chromium', { skip: skipUnless({ chromium: 'chromium' }) }, async (t) => {
  const tracker = await startTracker(t)
  const browser = await chromium.launchPersistentContext(await tempDir(t, 'shoal-chromium-'), {
    executablePath: findProgram('chromium')!, headless: true, args: CHROMIUM_ARGS, timeout: 20_000,
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`))
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`)
  })
  // The page refreshes every 2 s; wait (bounded) for a figure to read `value`.
  const figure = (id: string, value: string) => page.locator(`#${id}`).filter({ hasText: new RegExp(`^${value}$`) }).waitFor({ timeout: 10_000 })

  const res = await page.goto(`${tracker.httpUrl}/`, { waitUntil: 'load', timeout: 10_000 })
  t.equal(res?.status(), 200, 'GET / answers')
  t.equal(await page.title(), 'Shoal tracker', 'it is the dashboard')
  await figure('peersOnline', '0')

  // Peers arrive while the page is open: it must pick them up by itself.
  const content = new Uint8Array(32).fill(5)
  const chunkCount = 12
  const holdings = [Bitfield.full(chunkCount), Bitfield.fromIndices(chunkCount, [0, 1, 2, 3]), new Bitfield(chunkCount)]
  for (const [i, bitfield] of holdings.entries()) {
    const peer = await RawPeer.connect(t, tracker.url)
    await peer.register(6881 + i, [{ content, chunkCount, bitfield: bitfield.bytes }])
  }
  await figure('peersOnline', '3')
  await figure('contents', '1')
  await figure('chunkReplicas', '16')
  t.pass('peers online, contents and chunk replicas show the live numbers')
  t.match(await page.textContent('#status'), /^up \d+h \d+m · updated /, 'the status line says when it was updated')
  // History has a sample a minute; until the first one the chart has the live point only.
  t.match(await page.locator('#peersChart polyline').getAttribute('points'), /^\d+(\.\d+)?,\d+(\.\d+)?/, 'the peers chart gets its points')

  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true })
  // The page names an empty data: icon, so the browser does not ask for /favicon.ico either.
  t.same(problems, [], 'no console errors and no failed requests (not even for the favicon)')
})
