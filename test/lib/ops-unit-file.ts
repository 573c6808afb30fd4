import { readFileSync } from 'node:fs'

/**
 * Just enough of systemd's unit syntax (systemd.syntax, systemd.exec) to run a unit's
 * ExecStart the way systemd would: sections, comments, continuation lines, quoted
 * Environment= assignments, EnvironmentFile= and the %h / %% specifiers. Anything else it
 * meets in a value it must interpret throws, so a unit outgrowing this helper fails loudly.
 */
export class UnitFile {
  private readonly entries: { section: string; key: string; value: string }[] = []

  constructor(readonly path: string, text = readFileSync(path, 'utf8')) {
    let section = ''
    for (const line of logicalLines(text)) {
      const header = /^\[(.+)\]$/.exec(line)
      if (header !== null) {
        section = header[1]
        continue
      }
      const eq = line.indexOf('=')
      if (eq < 1) throw new Error(`${path}: cannot read line: ${line}`)
      this.entries.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() })
    }
  }

  /** Every value of `key` in `section`, in order. */
  all(section: string, key: string): string[] {
    return this.entries.filter((e) => e.section === section && e.key === key).map((e) => e.value)
  }

  /** The single value of `key` in `section`; throws when absent or repeated. */
  one(section: string, key: string): string {
    const values = this.all(section, key)
    if (values.length !== 1) throw new Error(`${this.path}: expected one ${key}= in [${section}], found ${values.length}`)
    return values[0]
  }

  /** Environment= assignments, in order, specifiers expanded. */
  environment(home: string): Map<string, string> {
    const env = new Map<string, string>()
    for (const value of this.all('Service', 'Environment')) {
      for (const word of splitWords(expandSpecifiers(value, home))) {
        const eq = word.indexOf('=')
        if (eq < 1) throw new Error(`${this.path}: bad Environment= assignment ${word}`)
        env.set(word.slice(0, eq), word.slice(eq + 1))
      }
    }
    return env
  }

  /** EnvironmentFile= paths, specifiers expanded; `optional` for the "-" prefix. */
  environmentFiles(home: string): { path: string; optional: boolean }[] {
    return this.all('Service', 'EnvironmentFile').map((value) => {
      const optional = value.startsWith('-')
      return { path: expandSpecifiers(optional ? value.slice(1) : value, home), optional }
    })
  }

  /** ExecStart= as argv, with ${VAR} and $VAR taken from `env` (an unset one throws). */
  execStart(home: string, env: Map<string, string>): string[] {
    const words = splitWords(expandSpecifiers(this.one('Service', 'ExecStart'), home))
    if (/^[-@:+!]/.test(words[0])) throw new Error(`${this.path}: ExecStart= prefixes are not supported here`)
    return words.flatMap((word) => {
      const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word)
      // systemd splits a bare $VAR on whitespace; ${VAR} stays one word.
      if (bare !== null) return lookup(env, bare[1], this.path).split(/\s+/).filter((w) => w !== '')
      return [word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => lookup(env, name, this.path))]
    })
  }
}

/** KEY=VALUE lines of an EnvironmentFile= (comments and blank lines skipped, quotes removed). */
export function parseEnvironmentFile(text: string): Map<string, string> {
  const env = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (match === null) throw new Error(`bad environment file line: ${line}`)
    env.set(match[1], unquote(match[2]))
  }
  return env
}

function lookup(env: Map<string, string>, name: string, path: string): string {
  const value = env.get(name)
  if (value === undefined) throw new Error(`${path}: ExecStart= uses $${name}, which nothing sets`)
  return value
}

function logicalLines(text: string): string[] {
  const out: string[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (pending === '' && (line.startsWith('#') || line.startsWith(';'))) continue
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' '
      continue
    }
    const whole = (pending + line).trim()
    pending = ''
    if (whole !== '') out.push(whole)
  }
  return out
}

function expandSpecifiers(value: string, home: string): string {
  return value.replace(/%(.)/g, (_m, c: string) => {
    if (c === 'h') return home
    if (c === '%') return '%'
    throw new Error(`specifier %${c} is not supported here`)
  })
}

/** Whitespace-separated words; double or single quotes group and are removed. */
function splitWords(value: string): string[] {
  const words = value.match(/(?:"[^"]*"|'[^']*'|[^\s"']+)+/g) ?? []
  return words.map((w) => w.replace(/"([^"]*)"|'([^']*)'/g, (_m, d?: string, s?: string) => d ?? s ?? ''))
}

function unquote(value: string): string {
  const match = /^"(.*)"$|^'(.*)'$/.exec(value)
  return match === null ? value : (match[1] ?? match[2])
}
