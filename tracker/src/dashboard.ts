/**
 * GET /: one self-contained page (no external assets) that polls /stats every two seconds
 * and draws the live figures plus the last hour's per-minute history as sparklines.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal tracker</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2733; background: #f6f8fa; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
  .sub { color: #5b6877; margin-bottom: 1.2rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .8rem; }
  .card { background: #fff; border: 1px solid #d8dee4; border-radius: 8px; padding: .8rem 1rem; }
  .card .label { color: #5b6877; font-size: .85rem; }
  .card .value { font-size: 1.6rem; font-variant-numeric: tabular-nums; }
  svg { width: 100%; height: 48px; display: block; margin-top: .3rem; }
  polyline { fill: none; stroke: #2f81f7; stroke-width: 2; }
  table { border-collapse: collapse; margin-top: 1.2rem; background: #fff; }
  td { border: 1px solid #d8dee4; padding: .25rem .7rem; font-variant-numeric: tabular-nums; }
  td:last-child { text-align: right; }
  .error { color: #b42318; }
</style>
</head>
<body>
<h1>Shoal tracker</h1>
<div class="sub" id="status">loading…</div>
<div class="cards">
  <div class="card"><div class="label">peers online</div><div class="value" id="peersOnline">–</div><svg id="peersChart" viewBox="0 0 100 40" preserveAspectRatio="none"><polyline/></svg></div>
  <div class="card"><div class="label">messages / s (1 min)</div><div class="value" id="messagesPerSecond">–</div><svg id="rateChart" viewBox="0 0 100 40" preserveAspectRatio="none"><polyline/></svg></div>
  <div class="card"><div class="label">contents</div><div class="value" id="contents">–</div></div>
  <div class="card"><div class="label">chunk replicas</div><div class="value" id="chunkReplicas">–</div></div>
  <div class="card"><div class="label">connections</div><div class="value" id="connections">–</div></div>
  <div class="card"><div class="label">manifests</div><div class="value" id="manifests">–</div></div>
</div>
<table><tbody id="totals"></tbody></table>
<script>
  const number = (n) => Math.round(n).toLocaleString('en-US')
  function draw(svg, values) {
    const max = Math.max(1, ...values)
    const step = values.length > 1 ? 100 / (values.length - 1) : 0
    svg.querySelector('polyline').setAttribute('points', values.map((v, i) => (i * step).toFixed(1) + ',' + (40 - (v / max) * 38).toFixed(1)).join(' '))
  }
  function uptime(s) {
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60
    return (d ? d + 'd ' : '') + h + 'h ' + m + 'm'
  }
  async function refresh() {
    try {
      const stats = await (await fetch('stats', { cache: 'no-store' })).json()
      for (const key of ['peersOnline', 'messagesPerSecond', 'contents', 'chunkReplicas', 'connections', 'manifests']) {
        document.getElementById(key).textContent = number(stats[key])
      }
      draw(document.getElementById('peersChart'), stats.history.map((s) => s.peersOnline).concat(stats.peersOnline))
      draw(document.getElementById('rateChart'), stats.history.map((s) => s.messagesPerSecond).concat(stats.messagesPerSecond))
      document.getElementById('totals').innerHTML = Object.entries(stats.totals)
        .map(([k, v]) => '<tr><td>' + k + '</td><td>' + number(v) + '</td></tr>').join('')
      const status = document.getElementById('status')
      status.className = ''
      status.textContent = 'up ' + uptime(stats.uptimeSeconds) + ' · updated ' + new Date().toLocaleTimeString()
    } catch (err) {
      const status = document.getElementById('status')
      status.className = 'error'
      status.textContent = 'cannot reach the tracker: ' + err.message
    }
  }
  refresh()
  setInterval(refresh, 2000)
</script>
</body>
</html>
`
