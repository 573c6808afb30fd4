import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'

interface Format {
  name: string
  parse: (text: string) => unknown
}

const JSON_FORMAT: Format = { name: 'JSON', parse: (text) => JSON.parse(text) }
const YAML_FORMAT: Format = { name: 'YAML', parse: (text) => parseYaml(text) }
const FORMATS: Record<string, Format> = { '.json': JSON_FORMAT, '.yaml': YAML_FORMAT, '.yml': YAML_FORMAT }

/**
 * A config file's entries: JSON or YAML by the file's extension; the top level must be a
 * mapping (an empty YAML file is an empty one). Errors are one line naming the file.
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const fail = (message: string): never => {
    throw new Error(`config ${file}: ${message}`)
  }
  const format = FORMATS[extname(file).toLowerCase()] ?? fail('must end in .json, .yaml or .yml')
  const body = await readFile(file, 'utf8').catch((err: Error) => fail(`cannot read it: ${err.message}`))
  let value: unknown
  try {
    value = format.parse(body)
  } catch (err) {
    // YAML errors add a code frame on further lines; the first says what and where.
    fail(`not valid ${format.name}: ${(err as Error).message.split('\n')[0].replace(/:$/, '')}`)
  }
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value)) fail('must be a mapping of setting names to values')
  return value as Record<string, unknown>
}
