import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Where Debian puts administrator programs, which a non-root PATH often lacks. */
const SBIN = ['/usr/sbin', '/sbin']

/** The absolute path of an installed program, or undefined. */
export function findProgram(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...SBIN]) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // not in this folder
    }
  }
  return undefined
}

/** For `t.test(name, { skip: skipUnless(...) })`: false when all are installed, else why not. */
export function skipUnless(programs: Record<string, string>): string | false {
  const missing = Object.entries(programs).filter(([program]) => findProgram(program) === undefined)
  if (missing.length === 0) return false
  return missing.map(([program, pkg]) => `${program} is not installed (Debian package ${pkg}; .ci/run installs it when run as root)`).join('; ')
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a program to completion (bounded by `timeoutMs`), feeding it `input` on stdin. */
export function runProgram(file: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') return reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`))
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr })
    })
    child.stdin!.end(options.input ?? '')
  })
}
