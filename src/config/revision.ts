import { InputError } from '../errors.js'
import { DNS1123_LABEL } from './inputs.js'

/** The `revision` input: a DNS-1123 label that istioctl keeps a string. Empty means no revision. */
export function parseRevision(text: string): string | undefined {
  const revision = text.trim() || undefined
  if (revision === undefined) return undefined
  if (!DNS1123_LABEL.test(revision) || revision.length > 63)
    throw new InputError(
      'revision',
      '',
      `must be a DNS-1123 label like "1-30-3" (lowercase letters, digits, "-"), got ${JSON.stringify(revision)}`
    )
  const readAs = istioctlReadsAs(revision)
  if (readAs)
    throw new InputError(
      'revision',
      '',
      `istioctl would read ${JSON.stringify(revision)} as a ${readAs} (it sets values.revision like a --set value), and install rejects a revision that is not a string; use e.g. "1-30-3"`
    )
  return revision
}

/**
 * What istioctl makes of a revision: it copies spec.revision to values.revision as `--set values.revision=<rev>`
 * (operator/pkg/render/manifest.go translateIstioOperatorToHelm, 1.28–1.31), and values/map.go parseValue takes
 * whatever strconv.Atoi, ParseFloat or ParseBool accept. The string field then fails to decode ("cannot unmarshal
 * number into Go value of type string"; for inf/nan istioctl panics). Among DNS-1123 labels that is exactly (checked
 * against Go's strconv for every label up to 5 characters): digits; <digits>e[-]<digits> and 0x<hex>p[-]<digits>
 * unless they overflow (then ParseFloat fails and the value stays a string); inf, infinity, nan; t, f, true, false.
 */
export function istioctlReadsAs(rev: string): 'number' | 'boolean' | undefined {
  if (/^(t|f|true|false)$/.test(rev)) return 'boolean'
  if (/^(\d+|inf|infinity|nan)$/.test(rev)) return 'number'
  if (/^\d+e-?\d+$/.test(rev)) return Number.isFinite(Number(rev)) ? 'number' : undefined
  const hex = /^0x([0-9a-f]+)p(-?\d+)$/.exec(rev)
  if (!hex) return undefined
  const mantissa = BigInt(`0x${hex[1]}`)
  // Scaling by a power of two keeps the rounding of the mantissa, so this overflows exactly when Go's does.
  return mantissa === 0n || Number.isFinite(Number(mantissa) * 2 ** Number(hex[2])) ? 'number' : undefined
}
