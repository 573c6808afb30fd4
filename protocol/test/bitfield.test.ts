import t from 'tap'
import { Bitfield, countBits } from '../src/bitfield.js'
import { MAX_CHUNKS } from '../src/limits.js'
import { ErrorCode } from '../src/errors.js'
import { seededRandom } from './helpers.js'

/** The naive reference: a plain boolean array. */
function reference(size: number, rand: () => number, density: number): boolean[] {
  return Array.from({ length: size }, () => rand() < density)
}

function fromBools(bools: boolean[]): Bitfield {
  return Bitfield.fromIndices(bools.length, bools.flatMap((b, i) => (b ? [i] : [])))
}

t.test('operations agree with a boolean-array reference', (t) => {
  const rand = seededRandom(42)
  for (let round = 0; round < 300; round++) {
    const size = Math.floor(rand() * 200)
    const density = [0, 0.05, 0.5, 0.95, 1][round % 5]
    const a = reference(size, rand, density)
    const b = reference(size, rand, rand())
    const fa = fromBools(a)
    const fb = fromBools(b)
    const ones = (bools: boolean[]) => bools.flatMap((x, i) => (x ? [i] : []))
    t.equal(fa.count, ones(a).length)
    t.same(fa.toArray(), ones(a))
    t.same(fa.and(fb).toArray(), ones(a.map((x, i) => x && b[i])))
    t.same(fa.or(fb).toArray(), ones(a.map((x, i) => x || b[i])))
    t.same(fa.andNot(fb).toArray(), ones(a.map((x, i) => x && !b[i])))
    t.equal(fa.countAnd(fb), ones(a.map((x, i) => x && b[i])).length)
    const from = Math.floor(rand() * (size + 2))
    const missing = a.findIndex((x, i) => i >= from && !x)
    const set = a.findIndex((x, i) => i >= from && x)
    t.equal(fa.nextMissing(from), missing, `nextMissing(${from}) size ${size}`)
    t.equal(fa.nextSet(from), set, `nextSet(${from}) size ${size}`)
    t.equal(fa.complete, a.every(Boolean))
    t.ok(Bitfield.fromWire(size, fa.bytes).equals(fa), 'wire round trip')
  }
  t.end()
})

t.test('set and clear report changes and keep the count', (t) => {
  const f = new Bitfield(10)
  t.equal(f.set(3), true)
  t.equal(f.set(3), false)
  t.equal(f.count, 1)
  t.equal(f.clear(3), true)
  t.equal(f.clear(3), false)
  t.equal(f.count, 0)
  f.set(9)
  t.equal(f.has(9), true)
  t.equal(f.has(8), false)
  t.equal(f.has(-1), false)
  t.equal(f.has(10), false)
  t.throws(() => f.set(10), { code: ErrorCode.INVALID_ARGUMENT })
  t.throws(() => f.set(1.5), { code: ErrorCode.INVALID_ARGUMENT })
  t.end()
})

t.test('full bitfields keep spare bits clear', (t) => {
  for (const size of [0, 1, 7, 8, 9, 100]) {
    const f = Bitfield.full(size)
    t.equal(f.count, size)
    t.ok(f.complete)
    t.doesNotThrow(() => Bitfield.check(size, f.bytes))
    t.equal(f.nextMissing(), -1)
  }
  t.end()
})

t.test('wire form is validated', (t) => {
  t.throws(() => Bitfield.fromWire(9, new Uint8Array(1)), { code: ErrorCode.BAD_MESSAGE })
  t.throws(() => Bitfield.fromWire(9, Uint8Array.of(0, 0x40)), { code: ErrorCode.BAD_MESSAGE }, 'spare bit set')
  t.throws(() => new Bitfield(-1), { code: ErrorCode.INVALID_ARGUMENT })
  t.throws(() => new Bitfield(2 ** 30), { code: ErrorCode.INVALID_ARGUMENT })
  t.throws(() => new Bitfield(8).and(new Bitfield(9)), { code: ErrorCode.INVALID_ARGUMENT })
  t.ok(Bitfield.fromWire(9, Uint8Array.of(0xff, 0x80)).complete)
  t.equal(new Bitfield(3).equals(new Bitfield(4)), false)
  t.same(Bitfield.full(3).clone().toArray(), [0, 1, 2])
  t.ok(new Bitfield(0).complete && new Bitfield(5).empty)
  t.end()
})

t.test('wire form is most significant bit first, as PROTOCOL.md shows', (t) => {
  t.same([...Bitfield.fromIndices(10, [0, 9]).bytes], [0x80, 0x40])
  t.same([...Bitfield.fromIndices(16, [7, 8, 15]).bytes], [0x01, 0x81])
  t.same([...Bitfield.full(12).bytes], [0xff, 0xf0])
  t.equal(countBits(Uint8Array.of(0xff, 0x01, 0x00, 0x81)), 11)
  t.end()
})

t.test('the largest bitfield: sparse bits found across whole empty and full bytes', (t) => {
  const size = MAX_CHUNKS
  const sparse = Bitfield.fromIndices(size, [3, 70_000, size - 1])
  t.same(sparse.toArray(), [3, 70_000, size - 1])
  t.equal(sparse.nextSet(4), 70_000)
  t.equal(sparse.nextSet(size), -1)
  const full = Bitfield.full(size)
  full.clear(200_001)
  t.equal(full.nextMissing(), 200_001)
  t.equal(full.nextMissing(200_002), -1)
  t.equal(full.andNot(sparse).count, size - 4)
  t.equal(full.countAnd(sparse), 3)
  t.equal(sparse.nextSet(-5), 3, 'a negative start counts from 0')
  t.end()
})
