import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** bench-results/ at the repository root, where every scenario leaves its last run. */
const RESULTS = fileURLToPath(new URL('../../../../bench-results/', import.meta.url))

/** Writes `name` into bench-results/ and returns its path. */
export async function saveResult(name: string, content: string): Promise<string> {
  await mkdir(RESULTS, { recursive: true })
  const path = join(RESULTS, name)
  await writeFile(path, content)
  return path
}
