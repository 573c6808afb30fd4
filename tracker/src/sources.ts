import type { Source } from '@shoal/protocol'
import type { FindResult } from './chunk-index.js'
import { WordScratch } from './word-scratch.js'

const wantedWords = new WordScratch()

/** The answer's sources as the protocol describes them: each peer's chunks = held ∧ wanted. */
export function sourcesOf(result: FindResult, wanted: Uint8Array): Source[] {
  const want = wantedWords.load(wanted)
  return result.peers.map(({ peerId, host, port, load, held }) => {
    const chunks = new Uint32Array(held.length)
    for (let i = 0; i < held.length; i++) chunks[i] = held[i] & want[i]
    return { peerId, host, port, load, chunks: new Uint8Array(chunks.buffer, 0, wanted.length) }
  })
}
