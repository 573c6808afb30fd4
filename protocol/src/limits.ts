/** Protocol-wide bounds. Both sides enforce them; PROTOCOL.md documents each. */
export const PROTOCOL_VERSION = 2

/** Bytes in a content id (SHA-256 of the canonical manifest). */
export const CONTENT_ID_BYTES = 32
/** Bytes in a peer id (random, chosen by the peer). */
export const PEER_ID_BYTES = 16
/** Bytes in a peer's register key (random, kept secret by the peer). */
export const PEER_KEY_BYTES = 16
/** Bytes in a SHA-256 digest. */
export const HASH_BYTES = 32

export const MIN_CHUNK_SIZE = 16 * 1024
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024
export const DEFAULT_CHUNK_SIZE = 1024 * 1024
/** Chunks in one content; with 16 MiB chunks this allows 4 TiB. */
export const MAX_CHUNKS = 1 << 18

/** Largest tracker frame: a publish carrying a manifest of MAX_CHUNKS hashes plus file list. */
export const MAX_TRACKER_FRAME = 12 * 1024 * 1024
/** Largest peer-wire frame: one piece of the largest chunk plus its header. */
export const MAX_PEER_FRAME = MAX_CHUNK_SIZE + 1024
/** Largest canonical manifest. */
export const MAX_MANIFEST_BYTES = 10 * 1024 * 1024

export const MAX_FILES = 100_000
export const MAX_PATH_BYTES = 4096
export const MAX_NAME_BYTES = 255
/** Largest chunk-index list in one have / lost. */
export const MAX_CHUNK_LIST = 65_536
/** Contents one register may carry. */
export const MAX_REGISTER_CONTENTS = 10_000
export const MAX_SOURCES = 200
export const MAX_TOKEN_BYTES = 512
export const MAX_ERROR_MESSAGE_BYTES = 1024
/** Longest error code: `ERR_` and up to 59 capitals, digits or underscores. */
export const MAX_ERROR_CODE_BYTES = 63
export const MAX_HOST_BYTES = 255
/** Nesting the decoder accepts before it stops looking; our messages nest at most 4 deep. */
export const MAX_DEPTH = 6
/** Largest total element count (arrays + maps, recursively) of one decoded frame. */
export const MAX_ELEMENTS = 1 << 20
export const MAX_REQUEST_ID = 0xffff_ffff
