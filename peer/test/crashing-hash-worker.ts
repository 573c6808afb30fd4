import { parentPort } from 'node:worker_threads'

// A hash worker that dies on its first job ('error', then 'exit'), for the hasher's tests.
parentPort?.on('message', () => {
  throw new Error('hash worker crashed')
})
