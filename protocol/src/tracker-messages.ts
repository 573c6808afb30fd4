import { bytesExactly, bytesUpTo, errorCode, flag, fraction, listOf, optional, record, text, uint, version } from './fields.js'
import {
  CONTENT_ID_BYTES, MAX_CHUNK_LIST, MAX_CHUNKS, MAX_ERROR_MESSAGE_BYTES, MAX_HOST_BYTES, MAX_MANIFEST_BYTES,
  MAX_REGISTER_CONTENTS, MAX_REQUEST_ID, MAX_SOURCES, MAX_TOKEN_BYTES, PEER_ID_BYTES, PEER_KEY_BYTES,
} from './limits.js'
import { defineMessage as schema } from './codec.js'

/** One content a peer holds, with which of its chunks it has verified. */
export interface HeldContent {
  content: Uint8Array
  chunkCount: number
  /** Bitfield wire form over chunkCount bits. */
  bitfield: Uint8Array
}

/** A peer the tracker suggests, with which of the asked chunks it holds. */
export interface Source {
  peerId: Uint8Array
  host: string
  port: number
  /** Bitfield wire form over the content's chunks: held ∧ wanted; empty when the find did not ask for chunk lists. */
  chunks: Uint8Array
  /** The source's last reported upload load, 0 (idle) to 1 (saturated). */
  load: number
}

// Peer → tracker. Every message carries `id`; replies echo it.
/**
 * `key` is a random secret the peer keeps with its peer id: while a connection holds a
 * peer id, only a register presenting the same key may take it over.
 */
export interface RegisterMessage { type: 'register'; id: number; version: number; peerId: Uint8Array; key: Uint8Array; port: number; token?: string; contents: HeldContent[] }
export interface HaveMessage { type: 'have'; id: number; content: Uint8Array; chunks: number[] }
export interface LostMessage { type: 'lost'; id: number; content: Uint8Array; chunks: number[] }
export interface HeartbeatMessage { type: 'heartbeat'; id: number; load: number }
export interface UnregisterMessage { type: 'unregister'; id: number; content: Uint8Array }
export interface PublishMessage { type: 'publish'; id: number; manifest: Uint8Array }
export interface GetManifestMessage { type: 'get-manifest'; id: number; content: Uint8Array }
/**
 * `chunks` asks for each source's held ∧ wanted in the answer. A peer that learns its
 * sources' bitfields from the sources themselves (the peer wire handshake) says false, and
 * each source's `chunks` comes back empty: the tracker skips the work and the bytes.
 */
export interface FindMessage { type: 'find'; id: number; content: Uint8Array; wanted: Uint8Array; max: number; chunks: boolean }
export interface ReportMessage { type: 'report'; id: number; content: Uint8Array; peerId: Uint8Array; reason: string }

// Tracker → peer.
export interface RegisteredMessage { type: 'registered'; id: number; peerId: Uint8Array; address: string; ttl: number }
export interface SourcesMessage { type: 'sources'; id: number; content: Uint8Array; peers: Source[]; rarest: number[] }
export interface ManifestMessage { type: 'manifest'; id: number; content: Uint8Array; manifest: Uint8Array }
export interface OkMessage { type: 'ok'; id: number }
export interface ErrorMessage { type: 'error'; id: number; code: string; message: string }

export type TrackerRequest =
  | RegisterMessage | HaveMessage | LostMessage | HeartbeatMessage | UnregisterMessage
  | PublishMessage | GetManifestMessage | FindMessage | ReportMessage
export type TrackerReply = RegisteredMessage | SourcesMessage | ManifestMessage | OkMessage | ErrorMessage
export type TrackerMessage = TrackerRequest | TrackerReply

const id = uint(MAX_REQUEST_ID)
const contentId = bytesExactly(CONTENT_ID_BYTES)
const peerId = bytesExactly(PEER_ID_BYTES)
const chunkIndex = uint(MAX_CHUNKS - 1)
const chunkList = listOf(chunkIndex, MAX_CHUNK_LIST)
const bitfield = bytesUpTo(MAX_CHUNKS / 8)
const message = text(MAX_ERROR_MESSAGE_BYTES)

const heldContent = record<HeldContent>({ content: contentId, chunkCount: uint(MAX_CHUNKS), bitfield })
const source = record<Source>({ peerId, host: text(MAX_HOST_BYTES), port: uint(0xffff), chunks: bitfield, load: fraction() })


const SMALL = 64 * 1024

/** Type codes are part of the wire format: never renumber, only add. */
export const trackerSchemas = [
  schema<RegisterMessage>('register', 1, { id, version: version(), peerId, key: bytesExactly(PEER_KEY_BYTES), port: uint(0xffff), token: optional(text(MAX_TOKEN_BYTES)), contents: listOf(heldContent, MAX_REGISTER_CONTENTS) }, 8 * 1024 * 1024),
  schema<HaveMessage>('have', 2, { id, content: contentId, chunks: chunkList }, 512 * 1024),
  schema<LostMessage>('lost', 3, { id, content: contentId, chunks: chunkList }, 512 * 1024),
  schema<HeartbeatMessage>('heartbeat', 4, { id, load: fraction() }, SMALL),
  schema<UnregisterMessage>('unregister', 5, { id, content: contentId }, SMALL),
  schema<PublishMessage>('publish', 6, { id, manifest: bytesUpTo(MAX_MANIFEST_BYTES) }),
  schema<GetManifestMessage>('get-manifest', 7, { id, content: contentId }, SMALL),
  schema<FindMessage>('find', 8, { id, content: contentId, wanted: bitfield, max: uint(MAX_SOURCES), chunks: flag() }, SMALL),
  schema<ReportMessage>('report', 9, { id, content: contentId, peerId, reason: message }, SMALL),
  schema<RegisteredMessage>('registered', 20, { id, peerId, address: text(MAX_HOST_BYTES), ttl: uint(0xffff_ffff) }, SMALL),
  schema<SourcesMessage>('sources', 21, { id, content: contentId, peers: listOf(source, MAX_SOURCES), rarest: chunkList }, 8 * 1024 * 1024),
  schema<ManifestMessage>('manifest', 22, { id, content: contentId, manifest: bytesUpTo(MAX_MANIFEST_BYTES) }),
  schema<OkMessage>('ok', 23, { id }, SMALL),
  schema<ErrorMessage>('error', 24, { id, code: errorCode(), message }, SMALL),
]
