import { ErrorCode, ShoalError, contentIdOf, decodeManifest, manifestChunkCount, toHex } from '@shoal/protocol'
import type { GetManifestMessage, PublishMessage } from '@shoal/protocol'
import type { Handler } from './context.js'

/**
 * Verifies the manifest (structure, limits, canonical form) and stores it under the hash
 * of its bytes, which is its content id by definition. A live swarm that disagrees with
 * the verified chunk count was registered wrongly; it is removed so the real one can form.
 */
export const publish: Handler<PublishMessage> = async ({ index, store, totals }, _session, msg) => {
  // The id is a hash of the bytes, so a manifest already stored needs no second (costly) decode.
  const content = toHex(contentIdOf(msg.manifest))
  if (store.chunkCountOf(content) === undefined) {
    const chunkCount = manifestChunkCount(decodeManifest(msg.manifest))
    const swarmCount = index.chunkCountOf(content)
    if (swarmCount !== undefined && swarmCount !== chunkCount) index.removeContent(content)
    await store.putManifest(content, Uint8Array.from(msg.manifest), chunkCount)
    totals.manifestsPublished++
  }
  return { type: 'ok', id: msg.id }
}

export const getManifest: Handler<GetManifestMessage> = async ({ store }, _session, msg) => {
  const manifest = await store.getManifest(toHex(msg.content))
  if (manifest === undefined) throw new ShoalError(ErrorCode.NOT_FOUND, 'no manifest for this content')
  return { type: 'manifest', id: msg.id, content: msg.content, manifest }
}
