// How a figure grows with N: the exponent k of value ≈ c · N^k, fitted by least squares on log–log, and whether that
// is linear or better. A constant part (start-up, the slow cluster's own path) makes k < 1; a full mesh's N·(N−1)
// remote secrets push requests towards 2.

/** k above this is worse than linear: some slack for noise in a handful of points. */
export const LINEAR_TOLERANCE = 1.1

/**
 * The least-squares slope of log(value) over log(n); undefined with fewer than two usable points or a single N.
 * @param {Array<{ n: number, value: number | undefined }>} points
 * @returns {number | undefined}
 */
export function growthExponent(points) {
  const p = points.filter((x) => x.n > 0 && typeof x.value === 'number' && x.value > 0 && Number.isFinite(x.value))
  if (p.length < 2) return undefined
  const xs = p.map((x) => Math.log(x.n))
  const ys = p.map((x) => Math.log(/** @type {number} */ (x.value)))
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0)
  if (sxx === 0) return undefined
  return xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / sxx
}

/**
 * The exponent and its verdict.
 * @param {Array<{ n: number, value: number | undefined }>} points
 * @returns {{ exponent: number | undefined, verdict: 'linear or better' | 'worse than linear' | 'not measured' }}
 */
export function growthVerdict(points) {
  const exponent = growthExponent(points)
  return {
    exponent,
    verdict:
      exponent === undefined ? 'not measured' : exponent <= LINEAR_TOLERANCE ? 'linear or better' : 'worse than linear'
  }
}
