import { readFile } from 'node:fs/promises'
import { dirname, extname, isAbsolute, resolve } from 'node:path'
import type { Command, Option } from 'commander'

/** Options whose values name files or folders: in a config file, relative to the file. */
const PATH_KEYS = new Set(['dataDir', 'ca'])
/** Option sources a config file may override: nothing said on the command line or in a variable. */
const OVERRIDABLE = new Set([undefined, 'default'])

/** A config file's text parsed by its extension; `.json`, `.yaml` or `.yml`. */
async function parseConfigText(file: string, text: string): Promise<unknown> {
  const ext = extname(file).toLowerCase()
  if (ext === '.json') return JSON.parse(text)
  // Loaded here so that the other commands start without it.
  if (ext === '.yaml' || ext === '.yml') return (await import('yaml')).parse(text)
  throw new Error('the name must end in .json, .yaml or .yml')
}

/** The entries of a daemon config file: a mapping of option names in camelCase to values. */
export async function loadDaemonConfig(file: string): Promise<Record<string, unknown>> {
  let entries: unknown
  try {
    entries = (await parseConfigText(file, await readFile(file, 'utf8'))) ?? {}
  } catch (err) {
    // Parsers may add a code frame on further lines; the first says what and where.
    throw new Error(`config ${file}: ${(err as Error).message.split('\n')[0].replace(/:$/, '')}`)
  }
  if (typeof entries !== 'object' || Array.isArray(entries)) throw new Error(`config ${file}: must be a mapping of option names to values`)
  return entries as Record<string, unknown>
}

/**
 * Gives each option the file names the value from the file, unless a flag or an
 * environment variable set it already. The daemon's options and its parent's (--data-dir)
 * may be named; anything else, or a value the option's own parser refuses, throws.
 */
export function applyDaemonConfig(cmd: Command, file: string, entries: Record<string, unknown>): void {
  const owners = new Map<string, [Command, Option]>()
  for (const owner of [cmd.parent, cmd]) {
    for (const option of owner?.options ?? []) owners.set(option.attributeName(), [owner!, option])
  }
  owners.delete('config')
  for (const [key, value] of Object.entries(entries)) {
    const found = owners.get(key)
    if (found === undefined) throw new Error(`config ${file}: unknown key "${key}" (keys are the daemon's flags in camelCase, e.g. uploadLimit)`)
    const [owner, option] = found
    let parsed: unknown
    try {
      parsed = configValue(option, value, dirname(file))
    } catch (err) {
      throw new Error(`config ${file}: "${key}": ${(err as Error).message.replace(/\.$/, '')}, not ${JSON.stringify(value)?.slice(0, 60)}`)
    }
    if (OVERRIDABLE.has(owner.getOptionValueSource(key))) owner.setOptionValueWithSource(key, parsed, 'config')
  }
}

/** Runs a file's value through the option's own parser, as its flag's text would be. */
function configValue(option: Option, value: unknown, baseDir: string): unknown {
  const list = Array.isArray(value) && Array.isArray(option.defaultValue)
  const words = list ? value : [value]
  if (words.length === 0 || !words.every((w) => typeof w === 'string' ? w !== '' : Number.isFinite(w))) {
    throw new Error(list ? 'expected a non-empty string or a non-empty list of them' : 'expected a non-empty string or a number')
  }
  const texts = (words as (string | number)[]).map(String)
  if (PATH_KEYS.has(option.attributeName())) return isAbsolute(texts[0]) ? texts[0] : resolve(baseDir, texts[0])
  if (option.parseArg === undefined) return texts[0]
  return texts.reduce<unknown>((previous, text) => option.parseArg!(text, previous), list ? [] : option.defaultValue)
}
