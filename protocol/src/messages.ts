import { Codec } from './codec.js'
import { MAX_PEER_FRAME, MAX_TRACKER_FRAME } from './limits.js'
import { peerSchemas } from './peer-messages.js'
import type { PeerMessage } from './peer-messages.js'
import { trackerSchemas } from './tracker-messages.js'
import type { TrackerMessage } from './tracker-messages.js'

/** Tracker ⇄ peer frames (one WebSocket binary message each). */
export const trackerCodec = new Codec<TrackerMessage>('tracker', trackerSchemas, MAX_TRACKER_FRAME)
/** Peer ⇄ peer frames. */
export const peerCodec = new Codec<PeerMessage>('peer', peerSchemas, MAX_PEER_FRAME)
