import t from 'tap'
import { ErrorCode } from '../src/errors.js'
import { LINK_SCHEME, MAX_LINK_LENGTH, MAX_LINK_PEERS, MAX_LINK_TRACKERS, formatLink, normalizeTrackerUrl, parseLink } from '../src/link.js'
import { plain } from './helpers.js'

const ID_HEX = 'ab'.repeat(16) + '0123456789abcdef'.repeat(2)
const content = Uint8Array.from(Buffer.from(ID_HEX, 'hex'))
const { BAD_LINK } = ErrorCode

t.test('format and parse round trip', (t) => {
  const links = [
    { content, trackers: [] },
    { content, trackers: ['ws://127.0.0.1:7000'] },
    { content, trackers: ['ws://127.0.0.1:7000', 'wss://tracker.example.org', 'wss://t2.example.org:8443/shoal'], name: 'ubuntu 24.04 (desktop) é+&=?.iso' },
    { content, trackers: Array.from({ length: MAX_LINK_TRACKERS }, (_, i) => `ws://10.0.0.${i}:7000`), name: 'x'.repeat(255) },
    { content, trackers: ['ws://127.0.0.1:7000'], peers: [{ host: '127.0.0.1', port: 7071 }, { host: '::1', port: 1 }, { host: 'peer-2.example.org', port: 65535 }] },
    { content, trackers: [], peers: Array.from({ length: MAX_LINK_PEERS }, (_, i) => ({ host: `10.0.0.${i}`, port: 7000 + i })) },
  ]
  for (const link of links) {
    const text = formatLink(link)
    t.ok(text.startsWith(`${LINK_SCHEME}${ID_HEX}`), text.slice(0, 80))
    t.same(plain(parseLink(text)), plain(link))
  }
  t.equal(formatLink(links[4]), `shoal:${ID_HEX}?tr=ws%3A%2F%2F127.0.0.1%3A7000&peer=127.0.0.1%3A7071&peer=%5B%3A%3A1%5D%3A1&peer=peer-2.example.org%3A65535`, 'peers, IPv6 in brackets')
  t.equal(formatLink(links[2]), `shoal:${ID_HEX}?tr=ws%3A%2F%2F127.0.0.1%3A7000&tr=wss%3A%2F%2Ftracker.example.org&tr=wss%3A%2F%2Ft2.example.org%3A8443%2Fshoal&name=ubuntu+24.04+%28desktop%29+%C3%A9%2B%26%3D%3F.iso`, 'the exact text')
  t.end()
})

t.test('parsing is lenient where it is safe', (t) => {
  const parsed = parseLink(`  shoal:${ID_HEX.toUpperCase()}?tr=ws://127.0.0.1:7000/&tr=ws%3A%2F%2F127.0.0.1%3A7000&x=ignored&name=a%20b  `)
  t.same(parsed.trackers, ['ws://127.0.0.1:7000'], 'trailing slash dropped, duplicates merged, unescaped URL accepted')
  t.equal(parsed.name, 'a b')
  t.same(plain(parsed.content), plain(content), 'upper-case hex')
  t.notOk('name' in parseLink(`shoal:${ID_HEX}`), 'no name')
  t.notOk('peers' in parseLink(`shoal:${ID_HEX}`), 'no peers')
  t.same(parseLink(`shoal:${ID_HEX}?peer=[::1]:7071&peer=h:1&peer=[::1]:7071`).peers, [{ host: '::1', port: 7071 }, { host: 'h', port: 1 }], 'unescaped, duplicates dropped')
  t.equal(normalizeTrackerUrl('WS://Example.ORG:80/#frag'), 'ws://example.org', 'scheme and host lower-cased, default port and fragment dropped')
  t.equal(normalizeTrackerUrl('wss://[::1]:9000/'), 'wss://[::1]:9000')
  t.end()
})

t.test('bad links are refused with ERR_BAD_LINK', (t) => {
  const bad: [string, RegExp][] = [
    [`magnet:?xt=urn:btih:${ID_HEX}`, /must start with/],
    [`http:${ID_HEX}`, /must start with/],
    [`SHOAL:${ID_HEX}`, /must start with/],
    ['shoal:', /64 hex digits/],
    [`shoal:${ID_HEX.slice(1)}`, /64 hex digits/],
    [`shoal:${ID_HEX}00`, /64 hex digits/],
    [`shoal:${ID_HEX.slice(2)}zz`, /64 hex digits/],
    [`shoal:${ID_HEX}?tr=http://127.0.0.1:7000`, /ws:\/\/ or wss:\/\//],
    [`shoal:${ID_HEX}?tr=https://tracker.example.org`, /ws:\/\/ or wss:\/\//],
    [`shoal:${ID_HEX}?tr=file:///etc/passwd`, /ws:\/\/ or wss:\/\//],
    [`shoal:${ID_HEX}?tr=${encodeURIComponent('ws://user:secret@127.0.0.1:7000')}`, /credentials/],
    [`shoal:${ID_HEX}?tr=${encodeURIComponent('ws://user@127.0.0.1:7000')}`, /credentials/],
    [`shoal:${ID_HEX}?tr=not%20a%20url`, /not a URL/],
    [`shoal:${ID_HEX}?tr=`, /not a URL/],
    [`shoal:${ID_HEX}?${Array.from({ length: MAX_LINK_TRACKERS + 1 }, (_, i) => `tr=ws://h${i}`).join('&')}`, /at most 16 trackers/],
    [`shoal:${ID_HEX}?${Array.from({ length: MAX_LINK_PEERS + 1 }, (_, i) => `peer=h${i}:1`).join('&')}`, /at most 16 peers/],
    [`shoal:${ID_HEX}?peer=127.0.0.1`, /host:port/],
    [`shoal:${ID_HEX}?peer=127.0.0.1:0`, /host:port/],
    [`shoal:${ID_HEX}?peer=127.0.0.1:65536`, /host:port/],
    [`shoal:${ID_HEX}?peer=::1:7071`, /host:port/],
    [`shoal:${ID_HEX}?peer=a%2Fb:7071`, /host:port/],
    [`shoal:${ID_HEX}?peer=:7071`, /host:port/],
    [`shoal:${ID_HEX}?peer=h:-1`, /host:port/],
    [`shoal:${ID_HEX}?name=a&name=b`, /only one name/],
    [`shoal:${ID_HEX}?name=`, /name: name is empty/],
    [`shoal:${ID_HEX}?name=..`, /name:/],
    [`shoal:${ID_HEX}?name=a%2Fb`, /name:/],
    [`shoal:${ID_HEX}?name=a%00b`, /name:/],
    [`shoal:${ID_HEX}?name=a%5Cb`, /name:/],
    [`shoal:${ID_HEX}?name=${'x'.repeat(256)}`, /name:/],
    [`shoal:${ID_HEX}?name=${'x'.repeat(MAX_LINK_LENGTH)}`, /too long/],
  ]
  for (const [text, reason] of bad) t.throws(() => parseLink(text), { code: BAD_LINK, message: reason }, text.slice(0, 100))
  t.throws(() => parseLink(42 as never), { code: BAD_LINK })
  t.end()
})

t.test('formatting refuses what parsing would refuse', (t) => {
  t.throws(() => formatLink({ content: content.subarray(1), trackers: [] }), { code: BAD_LINK, message: /32 bytes/ })
  t.throws(() => formatLink({ content, trackers: ['http://x'] }), { code: BAD_LINK })
  t.throws(() => formatLink({ content, trackers: [], name: 'a/b' }), { code: BAD_LINK, message: /name:/ })
  const many = Array.from({ length: MAX_LINK_TRACKERS + 1 }, (_, i) => `ws://10.0.0.${i}`)
  t.throws(() => formatLink({ content, trackers: many }), { code: BAD_LINK, message: /at most/ })
  const peers = Array.from({ length: MAX_LINK_PEERS + 1 }, (_, i) => ({ host: 'h', port: i + 1 }))
  t.throws(() => formatLink({ content, trackers: [], peers }), { code: BAD_LINK, message: /at most 16 peers/ })
  t.throws(() => formatLink({ content, trackers: [], peers: [{ host: 'a b', port: 1 }] }), { code: BAD_LINK, message: /host:port/ })
  t.throws(() => formatLink({ content, trackers: [], peers: [{ host: 'h', port: 0 }] }), { code: BAD_LINK, message: /host:port/ })
  const long = Array.from({ length: MAX_LINK_TRACKERS }, (_, i) => `wss://${String(i).padStart(2, '0')}${'t'.repeat(240)}.example.org/${'p'.repeat(300)}`)
  t.throws(() => formatLink({ content, trackers: long }), { code: BAD_LINK, message: /too long/ })
  t.end()
})
