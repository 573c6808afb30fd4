import type { TrackerRequest } from '@shoal/protocol'
import { have, heartbeat, lost, unregister } from './chunk-updates.js'
import type { Handler } from './context.js'
import { find, report } from './find.js'
import { getManifest, publish } from './manifests.js'
import { register } from './register.js'

export type { Handler, HandlerContext, Reply } from './context.js'

type HandlerTable = { [K in TrackerRequest['type']]: Handler<Extract<TrackerRequest, { type: K }>> }

/** One handler per request kind; replies (registered, sources, …) have none and are refused. */
export const HANDLERS: HandlerTable = {
  register, have, lost, heartbeat, unregister, publish, 'get-manifest': getManifest, find, report,
}
