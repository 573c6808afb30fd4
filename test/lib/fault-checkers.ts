import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Bitfield, bytesEqual, ErrorCode, toHex } from '@shoal/protocol'
import { RawTrackerClient } from './fault-tracker-client.js'
import { RawWireClient } from './fault-wire-client.js'

/** What a well-behaved client saw while something else went on. */
export interface CheckerResult {
  rounds: number
  /** Slowest round trip, ms. */
  worstMs: number
  /** Mismatches between what it was told and what is true (empty when all is well). */
  wrong: string[]
}

const KEEP_WRONG = 10
/** How long a chunk refused with ERR_BUSY is left alone, as the daemon does. */
const BUSY_RETRY_MS = 1000
/** Pace of the well-behaved tracker client: about 100 rounds (300 messages) a second. */
const ROUND_MS = 10

export function newCheckerResult(): CheckerResult {
  return { rounds: 0, worstMs: 0, wrong: [] }
}

/**
 * A well-behaved tracker client pair: `holder` announces and withdraws chunks of a
 * content, `asker` finds them, and every answer is checked against what the holder really
 * announced; the manifest is fetched back too. Runs until `stop` aborts, keeping `result`
 * current as it goes; a round that takes longer than `roundTimeoutMs` throws (the tracker hangs).
 */
export async function checkTracker(url: string, content: { id: Uint8Array; chunkCount: number; manifest: Uint8Array }, stop: AbortSignal, result = newCheckerResult(), roundTimeoutMs = 5000): Promise<CheckerResult> {
  const holder = await RawTrackerClient.connect(url)
  const asker = await RawTrackerClient.connect(url)
  const wrong = (what: string): void => void (result.wrong.length < KEEP_WRONG && result.wrong.push(what))
  try {
    const held = new Bitfield(content.chunkCount)
    await holder.register([{ content: content.id, chunkCount: content.chunkCount, bitfield: held.bytes }], 4242)
    await asker.register([])
    const wanted = Bitfield.full(content.chunkCount).bytes
    while (!stop.aborted) {
      const started = performance.now()
      const k = result.rounds % content.chunkCount
      if (held.has(k)) {
        holder.send({ type: 'lost', content: content.id, chunks: [k] })
        held.clear(k)
      } else {
        holder.send({ type: 'have', content: content.id, chunks: [k] })
        held.set(k)
      }
      await holder.flush(roundTimeoutMs)
      const reply = await asker.request({ type: 'find', content: content.id, wanted, max: 200, chunks: true }, roundTimeoutMs)
      const mine = reply.type === 'sources' ? reply.peers.find((p) => bytesEqual(p.peerId, holder.peerId)) : undefined
      if (reply.type !== 'sources') wrong(`find answered ${JSON.stringify(reply)}`)
      else if (held.empty ? mine !== undefined : mine === undefined || !bytesEqual(mine.chunks, held.bytes) || mine.port !== 4242) {
        wrong(`round ${result.rounds}: find shows ${mine ? toHex(mine.chunks) : 'no holder'}, holder has ${toHex(held.bytes)}`)
      }
      if (result.rounds % 10 === 0) {
        const m = await asker.request({ type: 'get-manifest', content: content.id }, roundTimeoutMs)
        if (m.type !== 'manifest' || !bytesEqual(m.manifest, content.manifest)) wrong(`get-manifest answered ${m.type}`)
      }
      const took = performance.now() - started
      result.worstMs = Math.max(result.worstMs, took)
      result.rounds++
      // A well-behaved peer does not flood: at most one round per ROUND_MS.
      await sleep(Math.max(0, ROUND_MS - took), undefined, { signal: stop }).catch(() => undefined)
    }
  } finally {
    holder.terminate()
    asker.terminate()
  }
  return result
}

/**
 * A well-behaved peer-wire client: handshakes with a seeder and fetches whole chunks in
 * turn, checking each against the content's bytes. Runs until `stop` aborts; a busy reply
 * is a valid answer (the seeder's upload slots may all be taken) and is retried.
 */
export async function checkWire(host: string, port: number, content: { id: Uint8Array; chunkCount: number; chunkSize: number; data: Buffer }, stop: AbortSignal, roundTimeoutMs = 10_000): Promise<CheckerResult & { busy: number }> {
  const client = await RawWireClient.connect(host, port)
  const result = { rounds: 0, worstMs: 0, wrong: [] as string[], busy: 0 }
  const wrong = (what: string): void => void (result.wrong.length < KEEP_WRONG && result.wrong.push(what))
  try {
    const bitfield = await client.handshake(content.id, roundTimeoutMs)
    if (!bytesEqual(bitfield, Bitfield.full(content.chunkCount).bytes)) wrong('the seeder does not announce every chunk')
    while (!stop.aborted) {
      const started = performance.now()
      const chunk = result.rounds % content.chunkCount
      const at = chunk * content.chunkSize
      const expected = content.data.subarray(at, Math.min(at + content.chunkSize, content.data.length))
      const reply = await client.request(content.id, chunk, 0, expected.length, roundTimeoutMs)
      if (reply.type === 'busy' || (reply.type === 'reject' && reply.code === ErrorCode.BUSY)) {
        result.busy++
        // The protocol's own back-off: come back after the delay the seeder asked for.
        await sleep(reply.type === 'busy' ? reply.retryAfterMs : BUSY_RETRY_MS, undefined, { signal: stop }).catch(() => undefined)
      }
      else if (reply.type !== 'piece') wrong(`chunk ${chunk}: ${reply.type} ${JSON.stringify(reply)}`)
      else if (!bytesEqual(sha(reply.data), sha(expected))) wrong(`chunk ${chunk}: wrong bytes`)
      result.worstMs = Math.max(result.worstMs, performance.now() - started)
      result.rounds++
    }
  } finally {
    await client.close()
  }
  return result
}

function sha(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest()
}
