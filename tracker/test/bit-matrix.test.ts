import t from 'tap'
import { BitMatrix, bitOf, wordOf } from '../src/bit-matrix.js'
import { pick, randomBitfield, seeded } from './lib/random.js'
import { setBits } from './lib/index-fixtures.js'

/** Column `col` as wire bytes. */
function columnBytes(m: BitMatrix, col: number, byteLength: number, mask?: Uint32Array): Uint8Array {
  const words = new Uint32Array(m.wordCount + 1)
  m.copy(col, words, mask, 1)
  return new Uint8Array(words.buffer, 4, byteLength)
}

function asWords(bytes: Uint8Array, wordCount: number): Uint32Array {
  const words = new Uint32Array(wordCount)
  new Uint8Array(words.buffer).set(bytes)
  return words
}

t.test('a probe with wordOf and bitOf reads the wire bit of that chunk', (t) => {
  const wire = new Uint8Array([0b1000_0001, 0, 0b0010_0000, 0, 0, 0b0000_0001])
  const m = new BitMatrix(2)
  const col = m.add(wire, 0)
  const probed = Array.from({ length: 48 }, (_, c) => ((m.blocks[0][wordOf(c) * m.width + col] & bitOf(c)) !== 0 ? [c] : [])).flat()
  t.same(probed, [0, 7, 18, 47])
  t.end()
})

t.test('columns behave like separate bitfields through adds, removes, sets and clears', (t) => {
  const rand = seeded(21)
  let checks = 0
  /** Each disagreement with the model, described; one assertion at the end keeps the output short. */
  const problems: string[] = []
  const expect = (actual: unknown, expected: unknown, what: string): void => {
    checks++
    if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${what}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`)
  }
  for (const [chunkCount, blockColumns] of [[1, 4], [31, 4], [32, 2], [33, 8], [100, 4], [4096, 4], [100, 64]]) {
    const byteLength = (chunkCount + 7) >>> 3
    const wordCount = (byteLength + 3) >>> 2
    const m = new BitMatrix(wordCount, blockColumns)
    let blocksSeen = 0
    /** The model: column index → that column's chunks, as booleans, and its tag. */
    const model: boolean[][] = []
    const tags: number[] = []
    for (let step = 0; step < 800; step++) {
      const r = rand()
      // Adds outnumber removals for the first half, then removals win: the matrix grows and empties.
      if ((step < 400 ? r < 0.45 : r < 0.15) || model.length === 0) {
        const wire = randomBitfield(rand, chunkCount, pick(rand, [0, 0.3, 1]))
        const tag = Math.floor(rand() * 2 ** 32)
        expect(m.add(wire, tag), model.length, 'a new column goes last')
        tags.push(tag)
        model.push(setBits(chunkCount, wire).reduce((held, c) => ((held[c] = true), held), new Array<boolean>(chunkCount).fill(false)))
      } else if (r < 0.6) {
        const col = Math.floor(rand() * model.length)
        const moved = m.remove(col)
        const last = model.length - 1
        expect(moved, col === last ? -1 : last, 'the last column moves into the gap')
        model[col] = model[last]
        model.pop()
        tags[col] = tags[last]
        tags.pop()
      } else if (r < 0.65) {
        const col = Math.floor(rand() * model.length)
        tags[col] = Math.floor(rand() * 2 ** 11)
        m.setTag(col, tags[col])
      } else {
        const col = Math.floor(rand() * model.length)
        const chunk = Math.floor(rand() * chunkCount)
        if (rand() < 0.5) {
          expect(m.set(col, chunk), !model[col][chunk], 'set reports a change')
          model[col][chunk] = true
        } else {
          expect(m.clear(col, chunk), model[col][chunk], 'clear reports a change')
          model[col][chunk] = false
        }
      }
      expect(m.columns, model.length, 'columns')
      blocksSeen = Math.max(blocksSeen, m.blocks.length)
      const spare = m.capacity - m.columns
      expect(spare >= 0 && (m.blocks.length > 1 ? spare <= 1.5 * blockColumns : m.capacity <= 1 || m.columns > m.capacity >>> 2), true, 'spare room bounded')
      if (step % 50 !== 0) continue
      const mask = randomBitfield(rand, chunkCount, 0.5)
      const maskWords = asWords(mask, wordCount)
      for (let col = 0; col < model.length; col++) {
        const held = model[col].flatMap((h, c) => (h ? [c] : []))
        const both = held.filter((c) => (mask[c >>> 3] & (0x80 >>> (c & 7))) !== 0)
        expect(setBits(chunkCount, columnBytes(m, col, byteLength)), held, 'copy gives the column')
        expect(setBits(chunkCount, columnBytes(m, col, byteLength, maskWords)), both, 'copy with a mask gives column ∧ mask')
        expect(m.overlaps(col, maskWords), both.length > 0, 'overlaps')
        expect(m.tag(col), tags[col], 'the tag stays with its column')
        expect(m.blocks[col >>> m.blockShift][m.tagRow + (col & (m.blockColumns - 1))], tags[col], 'the tag row of its block holds it')
      }
    }
    t.ok(blocksSeen >= 2, `${chunkCount} chunks, blocks of ${blockColumns}: grew to ${blocksSeen} blocks`)
    while (m.columns > 0) m.remove(0)
    t.equal(m.capacity, 1, `${chunkCount} chunks: emptied, the matrix gives its room back`)
  }
  t.same(problems.slice(0, 5), [], `${checks} checks against the model, ${problems.length} disagreeing`)
  t.end()
})

t.test('block widths other than a power of two are refused', (t) => {
  t.throws(() => new BitMatrix(4, 48), RangeError)
  t.end()
})
