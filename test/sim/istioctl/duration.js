// Go time.Duration parsing and printing ("5m0s", "300ms", "1h2m3.5s"), in milliseconds.

/** @type {Record<string, number>} */
const UNITS = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 }

/**
 * @param {unknown} raw
 * @returns {number|undefined} milliseconds, or undefined if Go would reject the string
 */
export function parseDuration(raw) {
  let s = String(raw).trim()
  let sign = 1
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1
    s = s.slice(1)
  }
  if (s === '0') return 0
  if (s === '') return undefined
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let total = 0
  let pos = 0
  while (pos < s.length) {
    re.lastIndex = pos
    const m = re.exec(s)
    if (!m) return undefined
    total += Number(m[1]) * UNITS[m[2]]
    pos = re.lastIndex
  }
  return sign * total
}

/**
 * Go's Duration.String() for whole milliseconds.
 * @param {number} ms
 */
export function formatDuration(ms) {
  if (ms === 0) return '0s'
  const neg = ms < 0
  let rest = Math.abs(ms)
  if (rest < 1000) return `${neg ? '-' : ''}${rest}ms`
  const h = Math.floor(rest / 3600000)
  rest -= h * 3600000
  const m = Math.floor(rest / 60000)
  rest -= m * 60000
  const s = rest / 1000
  const sec = `${Number(s.toFixed(3))}s`
  const out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec
  return (neg ? '-' : '') + out
}
