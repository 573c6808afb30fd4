import { randomBytes } from 'node:crypto'
import t from 'tap'
import { ErrorCode, frameHeader } from '@shoal/protocol'
import { BufferPool } from '../src/wire/buffer-pool.js'
import { FrameReader } from '../src/wire/frame-reader.js'
import type { FrameSink } from '../src/wire/frame-reader.js'

/** Feeds `stream` to the reader the way `net` does: into the buffer it asks for, at most `step` bytes a read. */
function feed(reader: FrameReader, stream: Buffer, step: number): void {
  const { buffer, callback } = reader.onread as { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean }
  for (let at = 0; at < stream.length;) {
    const into = buffer()
    const n = Math.min(step, into.length, stream.length - at)
    into.set(stream.subarray(at, at + n))
    callback(n, into)
    at += n
  }
}

function framed(...payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [frameHeader(p.length), p]))
}

function collect(reader: FrameReader) {
  const frames: Buffer[] = []
  const errors: Error[] = []
  let reads = 0
  reader.sink = {
    // Copied, so not handed on.
    frame: (f) => {
      frames.push(Buffer.from(f))
      return false
    },
    error: (e) => errors.push(e),
    activity: () => reads++,
  }
  return { frames, errors, reads: () => reads }
}

/** A sink that keeps each frame as it comes and says it handed the bytes on, or not. */
function recording(seen: Buffer[], handedOn: boolean): FrameSink {
  return {
    frame: (f) => {
      seen.push(f)
      return handedOn
    },
    error: (err) => {
      throw err
    },
    activity: () => undefined,
  }
}

t.test('small and large frames, whatever the read sizes, come out whole and in order', async (t) => {
  const payloads = [randomBytes(10), Buffer.alloc(0), randomBytes(300_000), randomBytes(4096), randomBytes(4097), randomBytes(70_000), randomBytes(3)]
  const stream = framed(...payloads)
  for (const step of [1, 7, 4096, 65_536, stream.length]) {
    const reader = new FrameReader(1 << 20, new BufferPool(100_000, 2))
    const got = collect(reader)
    feed(reader, stream, step)
    t.same(got.frames, payloads, `reads of ${step} bytes`)
    t.equal(got.errors.length, 0)
    t.ok(got.reads() > 0)
  }
})

t.test('a large frame is read straight into a pool block, which the pool hands out again once given back', async (t) => {
  const pool = new BufferPool(64 * 1024, 1)
  const reader = new FrameReader(1 << 20, pool)
  const seen: Buffer[] = []
  reader.sink = recording(seen, true)
  const piece = randomBytes(50_000)
  feed(reader, framed(piece, piece), 8192)
  t.equal(seen.length, 2)
  t.same(seen[0], piece)
  t.not(seen[0].buffer, seen[1].buffer, 'both blocks were lent at once')
  pool.give(seen[0])
  pool.give(seen[0])
  pool.give(Buffer.alloc(10))
  const again = pool.take(1000)!
  t.equal(again.buffer, seen[0].buffer, 'the given block is reused')
  t.not(pool.take(1000)!.buffer, seen[0].buffer, 'a block given twice is handed out once')
  t.equal(pool.take(64 * 1024 + 1), undefined, 'more than a block does not come from the pool')
})

t.test('a large frame its receiver does not hand on goes back to the pool at once', async (t) => {
  const pool = new BufferPool(64 * 1024, 1)
  const reader = new FrameReader(1 << 20, pool)
  const seen: Buffer[] = []
  reader.sink = recording(seen, false)
  feed(reader, framed(randomBytes(50_000), randomBytes(50_000)), 8192)
  t.equal(seen.length, 2)
  t.equal(seen[0].buffer, seen[1].buffer, 'the second frame is read into the block the first had')
})

t.test('a frame longer than the cap stops the reader before anything is allocated for it', async (t) => {
  const reader = new FrameReader(1000, undefined)
  const got = collect(reader)
  feed(reader, Buffer.concat([framed(randomBytes(5)), frameHeader(1001), randomBytes(50)]), 3)
  t.equal(got.frames.length, 1)
  t.equal(got.errors.length, 1)
  t.equal((got.errors[0] as { code?: string }).code, ErrorCode.TOO_LARGE)
})

t.test('bytes before a sink is attached are ignored', async (t) => {
  const reader = new FrameReader(1000)
  feed(reader, framed(randomBytes(5)), 100)
  const got = collect(reader)
  feed(reader, framed(randomBytes(6)), 100)
  t.same(got.frames.map((f) => f.length), [6])
})
