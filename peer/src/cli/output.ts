import { ShoalError } from '@shoal/protocol'

/** Raised for an outcome that should end the command with a message and a status. */
export class CliExit extends Error {
  constructor(message: string, readonly status = 1) {
    super(message)
  }
}

/** Prints one line for any failure; a stack only with SHOAL_DEBUG set. */
export function reportError(err: unknown): number {
  const message = escapeControls(err instanceof Error ? err.message : String(err))
  process.stderr.write(`shoal: ${message}\n`)
  if (process.env.SHOAL_DEBUG && err instanceof Error && !(err instanceof ShoalError) && !(err instanceof CliExit)) {
    process.stderr.write(`${err.stack}\n`)
  }
  return err instanceof CliExit ? err.status : 1
}

/** Messages may quote names from untrusted manifests: never let them drive the terminal. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
