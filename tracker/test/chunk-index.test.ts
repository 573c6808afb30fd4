import t from 'tap'
import { MemoryChunkIndex } from '../src/memory-index.js'
import { chunkIndexSuite } from './lib/chunk-index-suite.js'

chunkIndexSuite(t, (options) => new MemoryChunkIndex(options))
