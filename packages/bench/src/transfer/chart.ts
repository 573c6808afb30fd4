export interface Series {
  name: string
  color: string
  /** [x, y] points, y > 0. */
  points: [number, number][]
  dashed?: boolean
}

/** A small line chart as SVG text: linear x, logarithmic y (seconds), legend top left. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const W = 720
  const H = 440
  const m = { left: 70, right: 20, top: 50, bottom: 55 }
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  const [l0, l1] = [Math.floor(Math.log10(Math.min(...ys) * 0.8)), Math.ceil(Math.log10(Math.max(...ys) * 1.2))]
  const px = (x: number) => m.left + ((x - x0) / Math.max(1, x1 - x0)) * (W - m.left - m.right)
  const py = (y: number) => H - m.bottom - ((Math.log10(y) - l0) / (l1 - l0)) * (H - m.top - m.bottom)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ]
  for (let e = l0; e <= l1; e++) {
    for (const k of [1, 2, 5]) {
      const y = k * 10 ** e
      if (Math.log10(y) > l1) continue
      out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`)
      out.push(`<text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${y}</text>`)
    }
  }
  for (const x of [...new Set(xs)]) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eee"/>`)
    out.push(`<text x="${px(x)}" y="${H - m.bottom + 18}" text-anchor="middle">${x}</text>`)
  }
  out.push(`<text x="${(W + m.left) / 2}" y="${H - 12}" text-anchor="middle">${escape(xLabel)}</text>`)
  out.push(`<text transform="translate(18 ${(H - m.bottom + m.top) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`)
  series.forEach((s, i) => {
    const path = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')
    out.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`)
    const ly = m.top + 8 + i * 18
    out.push(`<line x1="${m.left + 12}" x2="${m.left + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    out.push(`<text x="${m.left + 46}" y="${ly + 4}">${escape(s.name)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
