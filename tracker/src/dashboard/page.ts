import { createHash } from 'node:crypto'
import { DASHBOARD_SCRIPT } from './script.js'

const STYLE = `
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #1d2733; background: #f6f8fa; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
  h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
  .bar { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
  .sub { color: #5b6877; }
  .error { color: #b42318; }
  button { font: inherit; font-size: .85rem; border: 1px solid #d8dee4; background: #fff; border-radius: 6px; padding: .15rem .6rem; cursor: pointer; }
  button[aria-pressed="true"] { background: #1d2733; color: #fff; border-color: #1d2733; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .8rem; }
  .card { background: #fff; border: 1px solid #d8dee4; border-radius: 8px; padding: .8rem 1rem; }
  .label { color: #5b6877; font-size: .85rem; }
  .value { font-size: 1.6rem; font-variant-numeric: tabular-nums; }
  .small { display: flex; gap: 2rem; margin-top: .8rem; color: #5b6877; }
  .small span { color: #1d2733; font-variant-numeric: tabular-nums; }
  svg { width: 100%; height: 64px; display: block; margin-top: .3rem; }
  polyline { fill: none; stroke: #2f81f7; stroke-width: 2; stroke-linejoin: round; }
  circle { fill: #2f81f7; }
  line { stroke: #d8dee4; }
  svg text { fill: #5b6877; font-size: 10px; }
  table { border-collapse: collapse; background: #fff; width: 100%; }
  th, td { border: 1px solid #d8dee4; padding: .3rem .6rem; font-variant-numeric: tabular-nums; text-align: right; }
  th { background: #eef1f4; font-weight: 600; font-size: .85rem; }
  th:first-child, td.name { text-align: left; }
  td.name .id { color: #5b6877; font: .75rem ui-monospace, monospace; }
  tr.missing td { color: #b42318; }
  form { margin-bottom: .6rem; }
  input { font: inherit; border: 1px solid #d8dee4; border-radius: 6px; padding: .15rem .4rem; }
  .totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .2rem 1rem; color: #5b6877; }
  .totals span { color: #1d2733; font-variant-numeric: tabular-nums; float: right; }
`

/** [figure in /stats, data-testid, label, chart id] for the four figures with charts. */
const FIGURES: readonly [string, string, string, string][] = [
  ['peersOnline', 'peers-online', 'peers online', 'peersChart'],
  ['contents', 'contents', 'contents', 'contentsChart'],
  ['chunkReplicas', 'chunk-replicas', 'chunk replicas', 'replicasChart'],
  ['messagesPerSecond', 'messages-per-second', 'messages / s (last minute)', 'rateChart'],
]

function card([figure, testid, label, chart]: readonly [string, string, string, string]): string {
  return `<div class="card"><div class="label">${label}</div><div class="value" id="${figure}" data-testid="${testid}">–</div>` +
    `<svg id="${chart}" data-testid="${testid}-chart" viewBox="0 0 300 64" role="img" aria-label="${label} over time">` +
    '<line x1="0" y1="62" x2="300" y2="62"/><polyline points=""/><circle r="2.5" cx="300" cy="62"/><text x="2" y="10"></text><text class="from" x="2" y="60"></text></svg></div>'
}

const COLUMNS = ['content', 'peers', 'seeders', 'chunks', 'min availability', 'mean availability', 'under-replicated chunks']

const BODY = `<div class="bar"><div><h1>Shoal tracker</h1><div class="sub" id="status" data-testid="status">loading…</div></div>
<div role="group" aria-label="chart range"><button type="button" data-range="10m" data-testid="range-10m" aria-pressed="true">last 10 min</button>
<button type="button" data-range="1h" data-testid="range-1h" aria-pressed="false">last hour</button></div></div>
<div class="cards">
${FIGURES.map(card).join('\n')}
</div>
<div class="small"><div>connections <span id="connections" data-testid="connections">–</span></div><div>manifests <span id="manifests" data-testid="manifests">–</span></div></div>
<h2>Most-shared contents</h2>
<form id="tokenForm" data-testid="token-form" hidden><label>Tracker token: <input id="token" data-testid="token-input" type="password" autocomplete="off"></label>
<button type="submit" data-testid="token-submit">show contents</button> <span id="tokenNote" class="error" data-testid="token-note"></span></form>
<table data-testid="most-shared"><thead><tr>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody id="mostSharedBody"></tbody></table>
<h2>Totals since the data directory was created</h2>
<div class="totals" id="totals" data-testid="totals"></div>`

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/** GET /: one self-contained page; no external assets, so the browser fetches nothing but /stats. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal tracker</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`

/** Only the page's own script and style run, and it may only talk to the tracker. */
export const DASHBOARD_CSP = [
  "default-src 'none'", `script-src ${sha256(DASHBOARD_SCRIPT)}`, `style-src ${sha256(STYLE)}`, "connect-src 'self'",
  'img-src data:', "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ')
