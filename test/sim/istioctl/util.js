// Small shared helpers.

/** The annotation recording which root of trust istiod started with (sha256 of root-cert.pem, or "self-signed"). */
export const ROOT_CERT_ANNOTATION = 'sim.istio.io/root-cert-sha256'
/** The annotation recording which intermediate CA istiod signs with (sha256 of ca-cert.pem); absent when self-signed. */
export const CA_CERT_ANNOTATION = 'sim.istio.io/ca-cert-sha256'

/**
 * Go's text/tabwriter with minwidth 0, padding 5, padchar ' ' (istioctl's tables): the last column is not padded.
 * @param {Array<Array<string | number>>} rows
 */
export function tabwrite(rows, padding = 5) {
  const width = (/** @type {string | number} */ s) => [...String(s)].length
  const cols = Math.max(...rows.map((r) => r.length))
  /** @type {number[]} */
  const widths = []
  for (let i = 0; i < cols - 1; i++) widths[i] = Math.max(...rows.map((r) => width(r[i] ?? ''))) + padding
  return rows
    .map(
      (r) =>
        r
          .map((cell, i) => (i < r.length - 1 ? String(cell) + ' '.repeat(widths[i] - width(cell)) : String(cell)))
          .join('') + '\n'
    )
    .join('')
}
