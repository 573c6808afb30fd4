/**
 * The dashboard's own script, sent inline (its hash is in the page's CSP). It polls /stats
 * every 2 s and draws everything with DOM calls: text through textContent only, since
 * content names come from peers.
 */
export const DASHBOARD_SCRIPT = `
'use strict'
const H = 64
const POLL_MS = 2000
const RANGES = { '10m': { ms: 10 * 60 * 1000, series: 'recent' }, '1h': { ms: 60 * 60 * 1000, series: 'history' } }
/** Figure → the id of its chart. */
const CHARTS = { peersOnline: 'peersChart', contents: 'contentsChart', chunkReplicas: 'replicasChart', messagesPerSecond: 'rateChart' }
const FIGURES = Object.keys(CHARTS)
const TOKEN_KEY = 'shoal-tracker-token'
let range = '10m'
let last = null
let token = storedToken()

const byId = (id) => document.getElementById(id)
const whole = (n) => Math.round(n).toLocaleString('en-US')
const decimal = (n) => (n < 10 && !Number.isInteger(n) ? n.toFixed(1) : whole(n))

function element(tag, attributes, text) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  if (text !== undefined) node.textContent = text
  return node
}

/** One series over the chosen window, positioned by time; the live value is the last point. Drawn at the chart's real width, so text and dot keep their shape. */
function draw(figure, stats) {
  const svg = byId(CHARTS[figure])
  const W = Math.max(100, Math.round(svg.getBoundingClientRect().width))
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H)
  svg.querySelector('line').setAttribute('x2', String(W))
  const { ms, series } = RANGES[range]
  const from = stats.time - ms
  const points = stats[series].concat([stats]).filter((s) => s.time >= from).map((s) => [s.time, s[figure]])
  const max = Math.max(1, ...points.map((p) => p[1]))
  const xy = points.map(([time, value]) => [3 + ((time - from) / ms) * (W - 6), H - 3 - (value / max) * (H - 16)])
  svg.querySelector('polyline').setAttribute('points', xy.map(([x, y]) => x.toFixed(1) + ',' + y.toFixed(1)).join(' '))
  const [x, y] = xy[xy.length - 1]
  const dot = svg.querySelector('circle')
  dot.setAttribute('cx', x.toFixed(1))
  dot.setAttribute('cy', y.toFixed(1))
  svg.querySelector('text').textContent = 'max ' + decimal(max)
  svg.querySelector('.from').textContent = '−' + (range === '10m' ? '10 min' : '1 h')
}

function sharedRow(c) {
  const row = element('tr', { 'data-testid': 'most-shared-row', 'data-content': c.content })
  const name = element('td', { 'data-testid': 'content-name', class: 'name' })
  name.append(element('div', {}, c.name === undefined ? '(manifest not published)' : c.name))
  name.append(element('div', { class: 'id', title: c.content }, c.content.slice(0, 16) + '…'))
  row.append(name)
  const cells = [
    ['content-peers', whole(c.peers)], ['content-seeders', whole(c.seeders)], ['content-chunks', whole(c.chunkCount)],
    ['content-min-availability', whole(c.availability.min)], ['content-mean-availability', c.availability.mean.toFixed(2)],
    ['content-under-replicated', whole(c.underReplicatedChunks)],
  ]
  for (const [testid, text] of cells) row.append(element('td', { 'data-testid': testid }, text))
  if (c.availability.min === 0) row.classList.add('missing')
  return row
}

/** The list is absent when the tracker has a token and this page has not given it. */
function renderShared(list) {
  const body = byId('mostSharedBody')
  byId('tokenForm').hidden = list !== undefined
  byId('tokenNote').textContent = list === undefined && token ? 'that token was not accepted' : ''
  body.replaceChildren(...(list ?? []).map(sharedRow))
  if (list !== undefined && list.length > 0) return
  const [testid, text] = list === undefined ? ['most-shared-hidden', 'this tracker shows its contents to token holders only'] : ['most-shared-empty', 'no content has peers online']
  const row = element('tr', {})
  row.append(element('td', { colspan: '7', 'data-testid': testid }, text))
  body.append(row)
}

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

byId('tokenForm').addEventListener('submit', (event) => {
  event.preventDefault()
  token = byId('token').value
  try {
    sessionStorage.setItem(TOKEN_KEY, token)
  } catch {
    // Storage may be off; the token then lasts as long as the page.
  }
  refresh()
})

function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60
  return (d ? d + 'd ' : '') + h + 'h ' + m + 'm'
}

function render(stats) {
  for (const figure of FIGURES) {
    byId(figure).textContent = figure === 'messagesPerSecond' ? decimal(stats[figure]) : whole(stats[figure])
    draw(figure, stats)
  }
  byId('connections').textContent = whole(stats.connections)
  byId('manifests').textContent = whole(stats.manifests)
  renderShared(stats.mostShared)
  byId('totals').replaceChildren(...Object.entries(stats.totals).map(([k, v]) => {
    const item = element('div', { 'data-testid': 'total-' + k }, k + ' ')
    item.append(element('span', {}, whole(v)))
    return item
  }))
  const status = byId('status')
  status.className = ''
  status.textContent = 'up ' + uptime(stats.uptimeSeconds) + ' · updated ' + new Date().toLocaleTimeString()
}

async function refresh() {
  try {
    const res = await fetch('stats', { cache: 'no-store', headers: token ? { authorization: 'Bearer ' + token } : {} })
    if (!res.ok) throw new Error('GET /stats answered ' + res.status)
    last = await res.json()
    render(last)
  } catch (err) {
    const status = byId('status')
    status.className = 'error'
    status.textContent = 'cannot reach the tracker: ' + err.message
  }
}

function choose(key) {
  range = key
  for (const button of document.querySelectorAll('[data-range]')) button.setAttribute('aria-pressed', String(button.dataset.range === key))
  if (last !== null) for (const figure of FIGURES) draw(figure, last)
}

for (const button of document.querySelectorAll('[data-range]')) button.addEventListener('click', () => choose(button.dataset.range))

async function poll() {
  await refresh()
  setTimeout(poll, POLL_MS)
}
poll()
`
