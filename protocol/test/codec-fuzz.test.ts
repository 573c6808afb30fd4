import t from 'tap'
import { Packr } from 'msgpackr'
import { FrameError } from '../src/codec.js'
import { ErrorCode } from '../src/errors.js'
import { MAX_REQUEST_ID } from '../src/limits.js'
import { peerCodec, trackerCodec } from '../src/messages.js'
import type { AnyCodec } from './helpers.js'
import { peerSamples, pick, plain, randomBytes, randomInt, seededRandom, trackerSamples } from './helpers.js'

type Rand = () => number
// Per codec and kind of input; 2 codecs × 60,000 = 120,000 frames.
const FRAMES_PER_KIND = { random: 15_000, truncated: 10_000, mutated: 20_000, structured: 15_000 }
const DEADLINE_MS = 40_000
const DECODE_CODES: ReadonlySet<string> = new Set([ErrorCode.BAD_MESSAGE, ErrorCode.TOO_LARGE, ErrorCode.UNSUPPORTED_VERSION])
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x90, 0x9f, 0xc0, 0xc1, 0xc4, 0xc6, 0xca, 0xcb, 0xcc, 0xce, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]
const anything = new Packr({ useRecords: false })
const unpackAnything = new Packr({ useRecords: false, mapsAsObjects: false })

/** Random bytes, often starting like a frame so they get past the first checks. */
function randomFrame(rand: Rand, codes: number[]): Uint8Array {
  const bytes = randomBytes(rand, randomInt(rand, 48))
  if (bytes.length > 0 && rand() < 0.7) bytes[0] = 0x91 + randomInt(rand, 15)
  if (bytes.length > 1 && rand() < 0.7) bytes[1] = pick(rand, codes)
  return bytes
}

function mutate(rand: Rand, frame: Uint8Array): Uint8Array {
  let bytes = Buffer.from(frame)
  for (let n = 1 + randomInt(rand, 4); n > 0; n--) {
    const at = randomInt(rand, bytes.length + 1)
    switch (randomInt(rand, 6)) {
      case 0: if (at < bytes.length) bytes[at] = randomInt(rand, 256); break
      case 1: if (at < bytes.length) bytes[at] = pick(rand, INTERESTING_BYTES); break
      case 2: if (at < bytes.length) bytes[at] ^= 1 << randomInt(rand, 8); break
      case 3: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(randomInt(rand, 256)), bytes.subarray(at)]); break
      case 4: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + randomInt(rand, 8))]); break
      default: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(randomBytes(rand, randomInt(rand, 6)))])
    }
  }
  return bytes
}

/** Any msgpack value, including the kinds no message uses (maps, extensions, huge or negative numbers). */
function randomValue(rand: Rand, depth: number): unknown {
  switch (randomInt(rand, depth > 8 ? 12 : 14)) {
    case 0: return randomInt(rand, 128)
    case 1: return Math.floor(2 ** (rand() * 53))
    case 2: return -Math.floor(2 ** (rand() * 53))
    case 3: return pick(rand, [0.5, 1.5, -0.25, Number.NaN, Infinity, -Infinity, 1e300, 5e-324, 0.999])
    case 4: return pick(rand, ['', 'ERR_BAD_MESSAGE', 'ERR_X', 'x'.repeat(randomInt(rand, 300)), '\u0000\ud800é'])
    case 5: return Buffer.from(randomBytes(rand, pick(rand, [0, 1, 2, 15, 16, 17, 31, 32, 33, randomInt(rand, 600)])))
    case 6: return null
    case 7: return rand() < 0.5
    case 8: return { k: randomInt(rand, 10) }
    case 9: return new Date(randomInt(rand, 2 ** 31) * 1000)
    case 10: return BigInt.asIntN(64, BigInt(Math.floor(rand() * 2 ** 52)) << BigInt(randomInt(rand, 12)))
    case 11: return Array.from({ length: randomInt(rand, 600) }, () => randomInt(rand, 300_000))
    default: return Array.from({ length: randomInt(rand, 4) }, () => randomValue(rand, depth + 1))
  }
}

/** Well-formed msgpack shaped like a message: a valid frame with fields replaced, or a code with random fields. */
function structuredFrame(rand: Rand, wires: unknown[][], codes: number[]): Uint8Array {
  let wire: unknown[]
  if (rand() < 0.6) {
    wire = [...pick(rand, wires)]
    for (let n = 1 + randomInt(rand, 2); n > 0; n--) wire[1 + randomInt(rand, wire.length - 1)] = randomValue(rand, 0)
  } else {
    wire = [pick(rand, codes), ...Array.from({ length: randomInt(rand, 9) }, () => randomValue(rand, 0))]
  }
  if (rand() < 0.05) wire.push(randomValue(rand, 0))
  return anything.pack(wire)
}

interface Outcome { decoded: number; refused: Map<string, number>; wrong: string[] }

function check(codec: AnyCodec, bytes: Uint8Array, outcome: Outcome): void {
  try {
    const msg = codec.decode(bytes)
    outcome.decoded++
    // Whatever decodes must be a well-formed message that re-encodes to itself.
    if (!codec.types.includes(msg.type) || JSON.stringify(plain(codec.decode(codec.encode(msg)))) !== JSON.stringify(plain(msg))) {
      outcome.wrong.push(`decoded but unstable: ${Buffer.from(bytes).toString('hex').slice(0, 200)}`)
    }
  } catch (err) {
    const id = err instanceof FrameError ? err.requestId : undefined
    if (!(err instanceof FrameError) || !DECODE_CODES.has(err.code) || (id !== undefined && !(Number.isInteger(id) && id >= 0 && id <= MAX_REQUEST_ID))) {
      outcome.wrong.push(`${String(err)} for ${Buffer.from(bytes).toString('hex').slice(0, 200)}`)
      return
    }
    const key = err.message.replace(/\d+/g, 'N')
    outcome.refused.set(key, (outcome.refused.get(key) ?? 0) + 1)
  }
}

const codecs: [AnyCodec, (rand: Rand) => { type: string }[], number][] = [[trackerCodec, trackerSamples, 101], [peerCodec, peerSamples, 202]]
for (const [codec, samples, seed] of codecs) {
  t.test(`${codec.name}: decode of random and mutated frames only ever throws FrameError`, (t) => {
    const rand = seededRandom(seed)
    const frames = samples(rand).map((m) => codec.encode(m)).filter((f) => f.length <= 4096)
    const wires = frames.map((f) => unpackAnything.unpack(f) as unknown[])
    const codes = [...new Set(wires.map((w) => w[0] as number)), 0, 10, 25, 127]
    const makers: Record<keyof typeof FRAMES_PER_KIND, () => Uint8Array> = {
      random: () => randomFrame(rand, codes),
      truncated: () => {
        const frame = pick(rand, frames)
        return frame.subarray(0, randomInt(rand, frame.length))
      },
      mutated: () => mutate(rand, pick(rand, frames)),
      structured: () => structuredFrame(rand, wires, codes),
    }
    const started = Date.now()
    let total = 0
    for (const [kind, count] of Object.entries(FRAMES_PER_KIND) as [keyof typeof FRAMES_PER_KIND, number][]) {
      const outcome: Outcome = { decoded: 0, refused: new Map(), wrong: [] }
      for (let i = 0; i < count && Date.now() - started < DEADLINE_MS; i++) {
        check(codec, makers[kind](), outcome)
        total++
      }
      t.same(outcome.wrong.slice(0, 5), [], `${kind}: only FrameErrors with decode codes`)
      // A proper prefix of a frame never decodes; the other kinds reach many different checks.
      if (kind === 'truncated') t.equal(outcome.decoded, 0, 'no truncated frame decodes')
      else t.ok(outcome.refused.size >= 20, `${kind}: reached ${outcome.refused.size} distinct refusals`)
      t.comment(`${kind}: ${count} frames, ${outcome.decoded} decoded, ${outcome.refused.size} distinct refusals`)
      if (kind === 'structured') t.ok(outcome.decoded > 0, 'structured frames sometimes decode, so validation is reached')
    }
    t.equal(total, Object.values(FRAMES_PER_KIND).reduce((a, b) => a + b), `all frames tried within ${DEADLINE_MS} ms`)
    t.comment(`${total} frames in ${Date.now() - started} ms`)
    t.end()
  })
}
