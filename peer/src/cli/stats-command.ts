import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { trustedCas } from '../tracker/trusted-cas.js'
import { CliExit } from './output.js'
import { formatContentStats, formatTrackerStats } from './stats-format.js'
import type { ContentFigures, TrackerFigures } from './stats-format.js'
import { httpGet, trackerHttpBase } from './tracker-http.js'
import type { HttpAnswer } from './tracker-http.js'

const TIMEOUT_MS = 10_000

export interface StatsOptions {
  content?: string
  token?: string
  ca?: string
  json?: boolean
}

export function statsCommand(): Command {
  return new Command('stats')
    .description("print a tracker's figures: peers, contents, traffic, uptime (needs no daemon)")
    .argument('<tracker-url>', 'the tracker as peers are given it (ws:// or wss://), or its http:// or https:// address')
    .option('--content <id>', "one content's figures instead (64 hex digits)")
    .addOption(new Option('--token <token>', 'the tracker token, for --content and the most-shared list when the tracker has one').env('SHOAL_TRACKER_TOKEN'))
    .addOption(new Option('--ca <file>', 'also trust this PEM CA certificate (an https:// tracker with a private CA)').env('SHOAL_CA'))
    .option('--json', "print the tracker's JSON unchanged")
    .action(async (tracker: string, o: StatsOptions) => {
      process.stdout.write(await trackerStatsText(tracker, o))
    })
}

/** What `shoal stats` prints: the figures as a table, or the tracker's JSON; a CliExit for anything else. */
export async function trackerStatsText(tracker: string, o: StatsOptions): Promise<string> {
  const base = trackerHttpBase(tracker)
  const content = o.content === undefined ? undefined : contentId(o.content)
  const ca = o.ca === undefined ? undefined : await readFile(o.ca, 'utf8').catch((err: Error) => {
    throw new CliExit(`cannot read --ca ${o.ca}: ${err.message}`)
  })
  const url = new URL(content === undefined ? 'stats' : `stats/contents/${content}`, base)
  // An empty variable (SHOAL_TRACKER_TOKEN= in an environment file) means no token.
  const token = o.token === '' ? undefined : o.token
  const answer = await httpGet(url, { token, ca: trustedCas(ca), timeoutMs: TIMEOUT_MS }).catch((err: NodeJS.ErrnoException) => {
    throw new CliExit(`cannot reach the tracker at ${base.href}: ${err.message}${/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code ?? '') ? ' (a private CA? give it with --ca)' : ''}`)
  })
  if (answer.status !== 200) throw new CliExit(refusal(answer, content, token !== undefined))
  if (o.json) {
    checkBody(answer.body, url)
    return answer.body.endsWith('\n') ? answer.body : `${answer.body}\n`
  }
  if (content === undefined) return formatTrackerStats(base.href, checkBody<TrackerFigures>(answer.body, url))
  return formatContentStats(content, checkBody<ContentFigures>(answer.body, url))
}

function contentId(text: string): string {
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new CliExit(`--content must be a content id of 64 hex digits, not "${text.slice(0, 80)}"`)
  return text.toLowerCase()
}

/** The figures in a 200 answer: a JSON object, or the answer is not from a tracker. */
function checkBody<T>(body: string, url: URL): T {
  try {
    const value: unknown = JSON.parse(body)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as T
  } catch {
    // said below
  }
  throw new CliExit(`${url.href} did not answer with tracker figures (is it a Shoal tracker?)`)
}

/** One line for a non-200 answer; the tracker's errors are `{code, message}`. */
function refusal(answer: HttpAnswer, content: string | undefined, withToken: boolean): string {
  let message = ''
  try {
    message = String((JSON.parse(answer.body) as { message?: unknown }).message ?? '')
  } catch {
    // not one of the tracker's errors
  }
  if (answer.status === 401) {
    return withToken ? 'the tracker refused the token' : 'the tracker wants its token for this: give --token or set SHOAL_TRACKER_TOKEN'
  }
  if (answer.status === 404 && content !== undefined && message !== '') return `the tracker knows no content ${content}: ${message.slice(0, 200)}`
  return `the tracker answered ${answer.status}${message === '' ? '' : `: ${message.slice(0, 200)}`}`
}
