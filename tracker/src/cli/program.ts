import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { readConfigFile } from './config-file.js'
import { RUN, SETTINGS, envName, kebabCase } from './settings.js'
import type { CliSettings, Setting } from './settings.js'

/** The shoal-tracker command line: one option per setting, with its variable, default and --help section. */
export function buildProgram(): Command {
  const program = new Command('shoal-tracker')
    .description('Shoal tracker: the live index of which peers hold which chunks, over WebSockets, with HTTP stats')
  for (const setting of SETTINGS) program.addOption(optionOf(setting))
  return program
    .addHelpOption(new Option('-h, --help', 'show this help').helpGroup(RUN))
    .addOption(new Option('-V, --version', 'print the version').helpGroup(RUN))
    .on('option:version', () => {
      process.stdout.write(`${packageVersion()}\n`)
      process.exit(0)
    })
    .addHelpText('after', [
      '',
      'A config file (--config) takes the option names in camelCase as keys,',
      'e.g. {"dataDir": "/var/lib/shoal-tracker", "trustProxy": true}; relative',
      'paths in it are relative to the file. A flag beats its variable, which',
      'beats the config file, which beats the default.',
    ].join('\n'))
}

/**
 * Parses `argv` (process.argv form) into settings: a flag beats its environment variable,
 * which beats the config file (--config or SHOAL_TRACKER_CONFIG), which beats the default.
 */
export async function parseSettings(argv: readonly string[]): Promise<CliSettings> {
  const program = buildProgram().parse(argv)
  const file = program.getOptionValue('config') as string | undefined
  if (file !== undefined) applyConfigFile(program, file, await readConfigFile(file))
  return program.opts<CliSettings>()
}

/** Sets each entry of the file whose setting was not given by a flag or a variable; refuses unknown keys and bad values. */
export function applyConfigFile(program: Command, file: string, entries: Record<string, unknown>): void {
  const byKey = new Map(SETTINGS.filter((s) => s.key !== 'config').map((s) => [s.key as string, s]))
  for (const [key, value] of Object.entries(entries)) {
    const setting = byKey.get(key)
    if (setting === undefined) throw new Error(`config ${file}: unknown key "${key}"${hintFor(key, byKey)}`)
    let parsed: unknown
    try {
      parsed = setting.type.fromConfig(value, dirname(file))
    } catch (err) {
      throw new Error(`config ${file}: "${key}" ${(err as Error).message}, not ${JSON.stringify(value)?.slice(0, 60)}`)
    }
    const source = program.getOptionValueSource(key)
    if (source === undefined || source === 'default') program.setOptionValueWithSource(key, parsed, 'config')
  }
}

function optionOf(setting: Setting): Option {
  const { key, type } = setting
  const option = new Option(`--${kebabCase(key)} ${type.placeholder}`, setting.help).env(envName(key)).helpGroup(setting.group)
  if (setting.default !== undefined) option.default(setting.default)
  if (type.choices !== undefined) return option.choices(type.choices)
  return option.argParser((text: string) => {
    try {
      return type.fromText(text)
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  })
}

/** Keys are camelCase; a kebab-case or differently cased one gets the right spelling suggested. */
function hintFor(key: string, byKey: Map<string, Setting>): string {
  const folded = key.replaceAll(/[-_]/g, '').toLowerCase()
  const match = [...byKey.keys()].find((k) => k.toLowerCase() === folded)
  return match === undefined ? ' (the keys are the option names of --help, in camelCase)' : ` (did you mean "${match}"?)`
}

/** This package's version (from dist/src/cli/, the package.json three folders up). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version
}
