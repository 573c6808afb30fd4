import { bytesExactly, bytesUpTo, errorCode, listOf, record, text, uint, version } from './fields.js'
import {
  CONTENT_ID_BYTES, MAX_CHUNK_LIST, MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_ERROR_MESSAGE_BYTES, MAX_MANIFEST_BYTES, MAX_REQUEST_ID,
  PEER_ID_BYTES,
} from './limits.js'
import { defineMessage as schema } from './codec.js'

// Peer ⇄ peer, over one connection per content. Requests carry `id`; piece, busy and
// reject echo it, cancel names it.
export interface HandshakeMessage { type: 'handshake'; version: number; peerId: Uint8Array; content: Uint8Array }
export interface BitfieldMessage { type: 'bitfield'; bitfield: Uint8Array }
export interface PeerHaveMessage { type: 'have'; chunks: number[] }
export interface RequestMessage { type: 'request'; id: number; content: Uint8Array; chunk: number; offset: number; length: number }
export interface PieceMessage { type: 'piece'; id: number; chunk: number; offset: number; data: Uint8Array }
export interface CancelMessage { type: 'cancel'; id: number }
export interface BusyMessage { type: 'busy'; id: number; retryAfterMs: number }
export interface RejectMessage { type: 'reject'; id: number; code: string; message: string }
export interface PeerErrorMessage { type: 'error'; id: number; code: string; message: string }
/** Asks for a content's canonical manifest; allowed before (or instead of) a handshake. */
export interface PeerGetManifestMessage { type: 'get-manifest'; id: number; content: Uint8Array }
export interface PeerManifestMessage { type: 'manifest'; id: number; content: Uint8Array; manifest: Uint8Array }

export type PeerMessage =
  | HandshakeMessage | BitfieldMessage | PeerHaveMessage | RequestMessage | PieceMessage
  | CancelMessage | BusyMessage | RejectMessage | PeerErrorMessage | PeerGetManifestMessage | PeerManifestMessage

const id = uint(MAX_REQUEST_ID)
const chunk = uint(MAX_CHUNKS - 1)
const size = uint(MAX_CHUNK_SIZE)
const message = text(MAX_ERROR_MESSAGE_BYTES)

const SMALL = 64 * 1024
/** A manifest reply: the largest manifest plus its fields. */
const MAX_PEER_MANIFEST_FRAME = MAX_MANIFEST_BYTES + 1024

/** Type codes are part of the wire format: never renumber, only add. */
export const peerSchemas = [
  schema<HandshakeMessage>('handshake', 1, { version: version(), peerId: bytesExactly(PEER_ID_BYTES), content: bytesExactly(CONTENT_ID_BYTES) }, SMALL),
  schema<BitfieldMessage>('bitfield', 2, { bitfield: bytesUpTo(MAX_CHUNKS / 8) }, SMALL),
  schema<PeerHaveMessage>('have', 3, { chunks: listOf(chunk, MAX_CHUNK_LIST) }, 512 * 1024),
  schema<RequestMessage>('request', 4, { id, content: bytesExactly(CONTENT_ID_BYTES), chunk, offset: size, length: size }, SMALL),
  schema<PieceMessage>('piece', 5, { id, chunk, offset: size, data: bytesUpTo(MAX_CHUNK_SIZE) }),
  schema<CancelMessage>('cancel', 6, { id }, SMALL),
  schema<BusyMessage>('busy', 7, { id, retryAfterMs: uint(3_600_000) }, SMALL),
  schema<RejectMessage>('reject', 8, { id, code: errorCode(), message }, SMALL),
  schema<PeerErrorMessage>('error', 9, { id, code: errorCode(), message }, SMALL),
  schema<PeerGetManifestMessage>('get-manifest', 10, { id, content: bytesExactly(CONTENT_ID_BYTES) }, SMALL),
  schema<PeerManifestMessage>('manifest', 11, { id, content: bytesExactly(CONTENT_ID_BYTES), manifest: bytesUpTo(MAX_MANIFEST_BYTES) }, MAX_PEER_MANIFEST_FRAME),
]
