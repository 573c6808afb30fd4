import { ErrorCode, ShoalError, contentIdOf, toHex } from '@shoal/protocol'
import type { GetManifestMessage, PublishMessage } from '@shoal/protocol'
import type { Handler, HandlerContext } from './context.js'

/**
 * Verifies the manifest (structure, limits, canonical form) and stores it under the hash
 * of its bytes, which is its content id by definition. The id is a cheap hash, so a
 * manifest already stored is acknowledged at once; a new one is checked off the event
 * loop, one at a time per connection, which reads no further frames meanwhile.
 */
export const publish: Handler<PublishMessage> = async (ctx, session, msg) => {
  const content = toHex(contentIdOf(msg.manifest))
  if (ctx.store.chunkCountOf(content) === undefined) {
    await session.oneAtATime(() => verifyAndStore(ctx, content, msg.manifest))
  }
  return { type: 'ok', id: msg.id }
}

/** A live swarm that disagrees with the verified chunk count was registered wrongly; it is removed so the real one can form. */
async function verifyAndStore({ checker, index, store, totals }: HandlerContext, content: string, manifest: Uint8Array): Promise<void> {
  if (store.chunkCountOf(content) !== undefined) return
  const { bytes, chunkCount } = await checker.check(content, Uint8Array.from(manifest))
  // Another connection may have stored the same manifest meanwhile.
  if (store.chunkCountOf(content) !== undefined) return
  const swarmCount = index.chunkCountOf(content)
  if (swarmCount !== undefined && swarmCount !== chunkCount) index.removeContent(content)
  await store.putManifest(content, bytes, chunkCount)
  totals.manifestsPublished++
}

export const getManifest: Handler<GetManifestMessage> = async ({ store }, _session, msg) => {
  const manifest = await store.getManifest(toHex(msg.content))
  if (manifest === undefined) throw new ShoalError(ErrorCode.NOT_FOUND, 'no manifest for this content')
  return { type: 'manifest', id: msg.id, content: msg.content, manifest }
}
