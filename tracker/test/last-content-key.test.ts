import t from 'tap'
import { toHex } from '@shoal/protocol'
import { LastContentKey } from '../src/last-content-key.js'

t.test('the key is always the hex of the content asked', (t) => {
  const keys = new LastContentKey()
  const a = new Uint8Array(32).fill(1)
  const b = Uint8Array.from(a, (v, i) => (i === 31 ? 2 : v))
  t.equal(keys.of(a), toHex(a), 'first')
  t.equal(keys.of(new Uint8Array(a)), toHex(a), 'the same bytes in another array')
  t.equal(keys.of(b), toHex(b), 'differs in the last byte')
  t.equal(keys.of(a), toHex(a), 'back to the first')
  a.fill(3)
  t.equal(keys.of(a), toHex(a), 'the caller\'s array changed after it was asked')
  const short = new Uint8Array(4)
  t.equal(keys.of(new Uint8Array(32)), toHex(new Uint8Array(32)))
  t.equal(keys.of(short), toHex(short), 'an id of another length is never taken for the last one')
  t.equal(keys.of(new Uint8Array(32)), toHex(new Uint8Array(32)), 'nor does it replace the last one')
  t.end()
})
