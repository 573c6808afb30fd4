import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { Bitfield, bytesEqual, ErrorCode, PROTOCOL_VERSION, toHex } from '@shoal/protocol'
import { startPeer, startTracker, tempDir, waitUntil } from '@shoal/testkit'
import { craftManifest } from '../lib/fault-manifest.js'
import type { CraftedManifest } from '../lib/fault-manifest.js'
import { RawTrackerClient } from '../lib/fault-tracker-client.js'
import type { Unnumbered } from '../lib/fault-tracker-client.js'
import { FAST } from '../lib/swarm.js'

/** What `find` says `peerId` holds of `content` (undefined: not handed out). */
async function heldBy(asker: RawTrackerClient, content: CraftedManifest, peerId: Uint8Array): Promise<string | undefined> {
  const reply = await asker.request({ type: 'find', content: content.id, wanted: Bitfield.full(content.chunkCount).bytes, max: 200, chunks: true })
  if (reply.type !== 'sources') throw new Error(`find answered ${JSON.stringify(reply)}`)
  const source = reply.peers.find((p) => bytesEqual(p.peerId, peerId))
  return source === undefined ? undefined : toHex(source.chunks)
}

function registerAs(client: RawTrackerClient, peerId: Uint8Array, key: Uint8Array, contents: Parameters<RawTrackerClient['register']>[0] = []) {
  return client.request({ type: 'register', version: PROTOCOL_VERSION, peerId, key, port: 9, contents })
}

t.test('a peer cannot alter or remove another peer\'s entries, even with its peer id', async (t) => {
  const tracker = await startTracker(t)
  const content = craftManifest({ name: 'c.bin', kind: 'file', files: [{ path: 'c.bin', size: 16 * 16 * 1024 }] })
  const holder = await RawTrackerClient.connect(tracker.url)
  const held = Bitfield.fromIndices(16, [0, 1, 2, 3])
  await holder.register([])
  await holder.request({ type: 'publish', manifest: content.bytes })
  await holder.register([{ content: content.id, chunkCount: 16, bitfield: held.bytes }])
  const asker = await RawTrackerClient.connect(tracker.url)
  await asker.register([])
  t.teardown(() => [holder, asker].forEach((c) => c.terminate()))
  const intact = async (what: string): Promise<void> => {
    t.equal(await heldBy(asker, content, holder.peerId), toHex(held.bytes), `${what}: the holder's entry is intact`)
    t.ok(holder.isOpen, `${what}: the holder is still connected`)
  }

  // Same peer id, another key, while the holder is connected: refused, connection closed.
  const impostor = await RawTrackerClient.connect(tracker.url)
  const refused = await registerAs(impostor, holder.peerId, new Uint8Array(randomBytes(16)), [{ content: content.id, chunkCount: 16, bitfield: new Uint8Array(2) }])
  t.equal(refused.type === 'error' && refused.code, ErrorCode.AUTH, 'same peer id, different key: ERR_AUTH')
  t.equal((await impostor.closedWithin()).code, 4006, 'and the impostor\'s connection is closed with 4006 PEER_ID_TAKEN')
  await intact('after the impostor')

  // Without registering, nothing touches the index.
  const stranger = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => stranger.terminate())
  const unregistered: Unnumbered[] = [
    { type: 'lost', content: content.id, chunks: [0, 1, 2, 3] },
    { type: 'have', content: content.id, chunks: [9] },
    { type: 'unregister', content: content.id },
    { type: 'report', content: content.id, peerId: holder.peerId, reason: 'lies' },
  ]
  for (const msg of unregistered) {
    const reply = await stranger.request(msg, 5000)
    t.equal(reply.type === 'error' && reply.code, ErrorCode.NOT_REGISTERED, `${msg.type} before register: ERR_NOT_REGISTERED`)
  }
  await intact('after an unregistered connection')

  // Registered as itself, a peer's messages only ever name its own entries.
  await stranger.register([{ content: content.id, chunkCount: 16, bitfield: new Uint8Array(2) }])
  stranger.send({ type: 'lost', content: content.id, chunks: [0, 1, 2, 3] })
  stranger.send({ type: 'report', content: content.id, peerId: holder.peerId, reason: 'lies' })
  stranger.send({ type: 'report', content: content.id, peerId: holder.peerId, reason: 'more lies' })
  await stranger.request({ type: 'unregister', content: content.id })
  await stranger.flush()
  await intact('after another peer\'s lost, unregister and reports')
  const resync = await registerAs(stranger, holder.peerId, holder.key)
  t.equal(resync.type === 'error' && resync.code, ErrorCode.BAD_MESSAGE, 'a registered connection cannot switch to another peer id, even with its key')
  await intact('after a resync under the holder\'s id')

  // The same key takes the id over atomically (that is how a restarted peer replaces its stale session).
  const successor = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => successor.terminate())
  const next = Bitfield.fromIndices(16, [15])
  const takeover = await registerAs(successor, holder.peerId, holder.key, [{ content: content.id, chunkCount: 16, bitfield: next.bytes }])
  t.equal(takeover.type, 'registered', 'same peer id, same key: registered')
  t.equal((await holder.closedWithin()).code, 4001, 'and the old connection is closed with 4001 REPLACED')
  t.equal(await heldBy(asker, content, holder.peerId), toHex(next.bytes), 'the entry is the new connection\'s, whole')

})

t.test('a tracker token is required: missing or wrong gets ERR_AUTH and close 4002', async (t) => {
  const tracker = await startTracker(t, { token: 's3cret-token' })
  for (const token of [undefined, 'wrong', 's3cret-tokeN', 's3cret-token-and-more']) {
    const client = await RawTrackerClient.connect(tracker.url)
    const reply = await client.request({ type: 'register', version: PROTOCOL_VERSION, peerId: client.peerId, key: client.key, port: 9, token, contents: [] })
    t.equal(reply.type === 'error' && reply.code, ErrorCode.AUTH, `token ${JSON.stringify(token)}: ERR_AUTH`)
    t.equal((await client.closedWithin()).code, 4002, `token ${JSON.stringify(token)}: closed with 4002 AUTH_FAILED`)
  }
  const client = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => client.terminate())
  t.equal((await client.request({ type: 'register', version: PROTOCOL_VERSION, peerId: client.peerId, key: client.key, port: 9, token: 's3cret-token', contents: [] })).type, 'registered', 'the right token is accepted')
})

t.test('a peer whose id was squatted while it was away gets back once the squatter is gone', async (t) => {
  // ttl 2 s: a peer id stays reserved for its last key for 2 × ttl after its holder leaves.
  const tracker = await startTracker(t, { ttl: 2 })
  const dataDir = await tempDir(t, 'shoal-auth-')
  const peerId = new Uint8Array(randomBytes(16))
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'identity.json'), JSON.stringify({ peerId: toHex(peerId), key: toHex(randomBytes(16)) }), { mode: 0o600 })
  // The squatter learned the id (any find hands it out) and registers it first, with its own key.
  const squatter = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => squatter.terminate())
  t.equal((await registerAs(squatter, peerId, new Uint8Array(randomBytes(16)))).type, 'registered', 'the squatter holds the id')
  const victim = await startPeer(t, { dataDir, trackers: [tracker.url], tuning: FAST })
  t.equal(victim.peerId, toHex(peerId))
  const refused = await waitUntil(async () => {
    const [status] = (await victim.api.status()).trackers
    return status.state === 'waiting' && /different key/.test(status.error ?? '') ? status : undefined
  }, { timeoutMs: 10_000, what: 'the victim refused' })
  t.pass(`while the id is held, the victim is refused and waits to try again (${refused.error})`)
  await squatter.close()
  const back = await waitUntil(async () => {
    const [status] = (await victim.api.status()).trackers
    return status.state === 'registered' ? status : undefined
  }, { timeoutMs: 15_000, what: 'the victim registered again' }).catch(() => undefined)
  t.ok(back !== undefined, 'once the squatter is gone (and its reservation ran out) the victim registers again')
})

t.test('a peer id stays its owner\'s for 2 × ttl after it left (another key gets 4006), then it is free', async (t) => {
  const tracker = await startTracker(t, { ttl: 1 })
  const owner = await RawTrackerClient.connect(tracker.url)
  t.equal((await registerAs(owner, owner.peerId, owner.key)).type, 'registered', 'the owner registers')
  const gone = async (client: RawTrackerClient): Promise<number> => {
    client.terminate()
    await client.closed
    await waitUntil(async () => ((await tracker.stats()).peersOnline === 0 ? true : undefined), { timeoutMs: 5000, what: 'the owner dropped' })
    return performance.now()
  }
  await gone(owner)
  const squatter = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => squatter.terminate())
  const taken = await registerAs(squatter, owner.peerId, new Uint8Array(randomBytes(16)))
  t.equal(taken.type === 'error' && taken.code, ErrorCode.AUTH, 'while the owner is away, a different key is refused with ERR_AUTH')
  t.equal((await squatter.closedWithin()).code, 4006, 'and closed with 4006 PEER_ID_TAKEN')
  const back = await RawTrackerClient.connect(tracker.url)
  t.equal((await registerAs(back, owner.peerId, owner.key)).type, 'registered', 'the owner\'s key gets it back')
  const left = await gone(back)
  // The reservation is a span of time (2 × ttl = 2 s); nothing to await but its end.
  await new Promise((resolve) => setTimeout(resolve, 2100 - (performance.now() - left)))
  const newcomer = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => newcomer.terminate())
  t.equal((await registerAs(newcomer, owner.peerId, new Uint8Array(randomBytes(16)))).type, 'registered', 'after that, the id takes any key')
})
