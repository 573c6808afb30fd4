import { ErrorCode, ShoalError, contentIdOf, toHex } from '@shoal/protocol'
import type { GetManifestMessage, PublishMessage } from '@shoal/protocol'
import type { Session } from '../session.js'
import type { Handler, HandlerContext } from './context.js'

/**
 * Verifies the manifest (structure, limits, canonical form) and stores it under the hash
 * of its bytes, which is its content id by definition. The id is a cheap hash, so a
 * manifest already on disk is acknowledged at once, and one being checked or written (for
 * any connection) is acknowledged when that is done, without keeping its bytes. A new one is
 * checked off the event loop, one at a time per connection, which reads no further frames
 * meanwhile.
 */
export const publish: Handler<PublishMessage> = async (ctx, session, msg) => {
  const id = msg.id
  const content = toHex(contentIdOf(msg.manifest))
  if (!ctx.store.hasManifest(content)) await storeOnce(ctx, session, content, msg.manifest)
  return { type: 'ok', id }
}

/** Joins the publish of `content` in progress, if any; only a new one holds on to its bytes. */
function storeOnce(ctx: HandlerContext, session: Session, content: string, manifest: Uint8Array): Promise<void> {
  checkRoom(ctx, manifest.length)
  return ctx.publishing.run(content, () => session.oneAtATime(() => verifyAndStore(ctx, content, Uint8Array.from(manifest))))
}

/** A live swarm that disagrees with the verified chunk count was registered wrongly; it is removed so the real one can form. */
async function verifyAndStore(ctx: HandlerContext, content: string, copy: Uint8Array): Promise<void> {
  const { checker, index, store, totals } = ctx
  const { bytes, chunkCount, name } = await checker.check(copy)
  checkRoom(ctx, bytes.length)
  const swarmCount = index.chunkCountOf(content)
  if (swarmCount !== undefined && swarmCount !== chunkCount) index.removeContent(content)
  await store.putManifest(content, bytes, chunkCount, name)
  totals.manifestsPublished++
}

/** Checked before the check (so a full store costs no CPU) and again before the write. */
function checkRoom({ config, store }: HandlerContext, bytes: number): void {
  if (store.manifestBytes + bytes > config.limits.maxManifestBytes) {
    throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, 'the tracker stores no more manifests (its limit is reached)')
  }
}

export const getManifest: Handler<GetManifestMessage> = async ({ store }, _session, msg) => {
  const manifest = await store.getManifest(toHex(msg.content))
  if (manifest === undefined) throw new ShoalError(ErrorCode.NOT_FOUND, 'no manifest for this content')
  return { type: 'manifest', id: msg.id, content: msg.content, manifest }
}
