/**
 * Real trackers and peer daemons as child processes on 127.0.0.1 for tests, benchmarks
 * and the demo: free ports, temp data folders, readiness read from their output (never
 * slept for), and teardown registered with the caller (tap's `t`, or a CleanupStack).
 */
export type { Cleanup } from './cleanup.js'
export { CleanupStack } from './cleanup.js'
export { startTracker, startTracker as createTestTracker, TestTracker } from './test-tracker.js'
export type { TestTrackerOptions } from './test-tracker.js'
export { startPeer, startPeer as createTestPeer, TestPeer, runShoal, SHOAL_CLI } from './test-peer.js'
export type { CliResult, TestPeerOptions } from './test-peer.js'
export { ChildNode } from './child.js'
export { waitUntil, within } from './wait.js'
export type { WaitOptions } from './wait.js'
export { tempDir, randomFile, sha256File } from './files.js'
