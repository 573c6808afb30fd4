import { CONTENT_ID_BYTES, MAX_CHUNK_LIST, MAX_ERROR_CODE_BYTES, MAX_ERROR_MESSAGE_BYTES, PEER_ID_BYTES } from './limits.js'

// The longest frames each side of a peer-wire connection can send, from the field limits.
// Senders may write any integer form and any length form (§3.5), so every value is counted
// in its longest: a receiver that caps frames at these never refuses a valid frame.

/** An array 16 header (a top-level array 32 is refused) and the type code, a positive fixint. */
const HEAD = 3 + 1
/** An integer as uint 64. */
const INT = 9
/** A list header with a 32-bit count. */
const LIST = 5
/** A string or binary of `n` bytes behind a 32-bit length. */
const sized = (n: number): number => 5 + n

const HANDSHAKE = HEAD + INT + sized(PEER_ID_BYTES) + sized(CONTENT_ID_BYTES)
const REQUEST = HEAD + INT + sized(CONTENT_ID_BYTES) + 3 * INT
const CANCEL = HEAD + INT
const GET_MANIFEST = HEAD + INT + sized(CONTENT_ID_BYTES)
/** `error`, and `reject`, which has the same fields. */
const ERROR = HEAD + INT + sized(MAX_ERROR_CODE_BYTES) + sized(MAX_ERROR_MESSAGE_BYTES)

/** Largest frame a downloading peer sends (handshake, request, cancel, error, get-manifest): an `error`. */
export const MAX_PEER_CLIENT_FRAME = Math.max(HANDSHAKE, REQUEST, CANCEL, ERROR, GET_MANIFEST)

/** Bytes of a piece frame before its data: the head, id, chunk, offset and the data's length. */
export const MAX_PIECE_HEAD_BYTES = HEAD + 3 * INT + sized(0)

/**
 * Largest frame a serving peer sends on a connection for a content of `chunkCount` chunks
 * of `chunkSize` bytes: a piece of a whole chunk, a `have` naming every chunk once, or a
 * reject or error. Its handshake, bitfield and busy are shorter.
 */
export function maxPeerServerFrame(chunkSize: number, chunkCount: number): number {
  const have = HEAD + LIST + INT * Math.min(chunkCount, MAX_CHUNK_LIST)
  return Math.max(MAX_PIECE_HEAD_BYTES + chunkSize, have, ERROR)
}
