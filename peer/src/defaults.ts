import { homedir } from 'node:os'
import { join } from 'node:path'

// Kept apart from options.ts so the CLI's client commands load nothing heavy.
export const DEFAULT_PORT = 7071

/** The data folder: `SHOAL_DATA_DIR`, else `~/.shoal`. */
export function defaultDataDir(): string {
  return process.env.SHOAL_DATA_DIR || join(homedir(), '.shoal')
}
