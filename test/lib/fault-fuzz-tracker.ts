import { once } from 'node:events'
import WebSocket from 'ws'
import { Bitfield, PROTOCOL_VERSION, trackerCodec } from '@shoal/protocol'
import type { TrackerMessage } from '@shoal/protocol'
import { fuzzFrame, judge, trackerMessage } from './fault-fuzz.js'
import type { FuzzContent, Rng } from './fault-fuzz.js'
import type { FuzzTally } from './fault-fuzz-tally.js'
import { nextEvent } from './fault-events.js'

/** Close codes a tracker may end a fuzzing connection with (ours is 1000). */
const EXPECTED_CLOSES = new Set([1000, 1009, 4003, 4007])
/**
 * Ids of valid frames are random uint32s from here up: above what a short random frame
 * shows, and sparse, so that a mutated frame (whose error names whatever id it shows)
 * does not land on the id of another frame of the connection.
 */
const FIRST_ID = 0x10000
const SMALL_CAP = 64 * 1024
const FRAME_CAP = 12 * 1024 * 1024
/** How long a tracker may take to answer what it was sent before it counts as a hang. */
const ANSWER_MS = 10_000

export interface TrackerFuzzTarget {
  url: string
  contents: FuzzContent[]
  manifests: Uint8Array[]
}

/**
 * One fuzzing connection to a tracker: optionally registers, sends `quota` fuzz frames in
 * batches, and after each batch checks that every frame the codec refuses got an `error`
 * (or that the tracker closed the connection, with a code it documents).
 */
export async function fuzzTrackerConnection(rng: Rng, target: TrackerFuzzTarget, quota: number, tally: FuzzTally): Promise<number> {
  const ws = new WebSocket(target.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
  ws.binaryType = 'nodebuffer'
  ws.on('error', () => undefined)
  const closed = nextEvent(ws, 'close').then((args) => args![0] as number)
  let closedBy: number | undefined
  void closed.then((code) => (closedBy = code))
  try {
    await once(ws, 'open')
  } catch {
    tally.violation(`tracker refused a connection (${await closed})`)
    return 0
  }
  const validIds = new Set<number>()
  let invalid = 0
  /** The refused frames of the current batch, to name in a violation. */
  let refused: string[] = []
  let anonymousErrors = 0
  let onError: (() => void) | undefined
  ws.on('message', (data: Buffer) => {
    const reply = judge(trackerCodec, data)
    if ('error' in reply) return tally.violation(`tracker sent an undecodable frame: ${reply.error.message}`)
    const msg = reply.msg as TrackerMessage
    if (msg.type !== 'error') return
    tally.errorCodes[msg.code] = (tally.errorCodes[msg.code] ?? 0) + 1
    if (!validIds.has(msg.id)) anonymousErrors++
    onError?.()
  })
  const newId = (): number => {
    let id: number
    do id = FIRST_ID + rng.int(0xffff_ffff - FIRST_ID)
    while (validIds.has(id))
    return id
  }
  let sent = 0
  if (rng.chance(0.6)) {
    const c = rng.pick(target.contents)
    const id = newId()
    validIds.add(id)
    const register = trackerCodec.encode({ type: 'register', id, version: PROTOCOL_VERSION, peerId: rng.bytes(16), key: rng.bytes(16), port: 1 + rng.int(65535), contents: [{ content: c.id, chunkCount: c.chunkCount, bitfield: new Bitfield(c.chunkCount).bytes }] })
    ws.send(register)
    tally.count('valid', register.length)
    sent++
  }
  while (sent < quota && closedBy === undefined) {
    const batch = 1 + rng.int(64)
    for (let i = 0; i < batch && sent < quota && ws.readyState === WebSocket.OPEN; i++, sent++) {
      const id = newId()
      const valid = trackerCodec.encode(trackerMessage(rng, id, target.contents, target.manifests))
      const frame = fuzzFrame(rng, valid, rng.chance(0.995) ? SMALL_CAP : FRAME_CAP)
      tally.count(frame.kind, frame.bytes.length)
      const text = rng.chance(0.01)
      const verdict = judge(trackerCodec, frame.bytes)
      if (text || 'error' in verdict) {
        invalid++
        refused.push(`${frame.kind}${text ? ' as text' : ''} ${Buffer.from(frame.bytes.subarray(0, 40)).toString('hex')}${frame.bytes.length > 40 ? `… (${frame.bytes.length} bytes)` : ''}`)
      }
      else validIds.add(id)
      ws.send(text ? Buffer.from(frame.bytes).toString('latin1') : frame.bytes, { binary: !text })
    }
    // Every frame before the ping is handled before the pong; publish and get-manifest
    // answer asynchronously, so wait for the error count too (bounded).
    ws.ping()
    const pong = await nextEvent(ws, 'pong', ANSWER_MS, closed)
    if (pong === undefined && closedBy === undefined) {
      tally.violation(`no pong within ${ANSWER_MS} ms: the tracker hangs`)
      break
    }
    if (closedBy !== undefined) break
    const answered = await new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (anonymousErrors < invalid && closedBy === undefined) return
        clearTimeout(timer)
        onError = undefined
        resolve(true)
      }
      const timer = setTimeout(() => {
        onError = undefined
        resolve(false)
      }, ANSWER_MS)
      onError = check
      void closed.then(check)
      check()
    })
    if (!answered) tally.violation(`${invalid - anonymousErrors} refused frames got no error within ${ANSWER_MS} ms; this batch refused: ${refused.join(' | ')}`)
    refused = []
  }
  if (ws.readyState === WebSocket.OPEN) ws.close(1000)
  const code = await closed
  tally.closes[code] = (tally.closes[code] ?? 0) + 1
  if (!EXPECTED_CLOSES.has(code)) tally.violation(`tracker closed a connection with ${code}`)
  return sent
}
