// labelSelector / fieldSelector query parameters, parsed into predicates over stored objects.

export class SelectorError extends Error {}

/** @typedef {(labels: Record<string, string>) => boolean} LabelTest */

// Split at commas outside parentheses: "a in (x,y),b" → ["a in (x,y)", "b"].
/** @param {string} s */
function splitTopLevel(s) {
  const parts = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  return parts.map((p) => p.trim()).filter(Boolean)
}

/**
 * @param {string} req
 * @returns {LabelTest}
 */
function labelRequirement(req) {
  /** @type {RegExpExecArray | null} */
  let m
  if ((m = /^!\s*([\w./-]+)$/.exec(req))) {
    const key = m[1]
    return (l) => !(key in l)
  }
  if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req))) {
    const values = m[3].split(',').map((v) => v.trim())
    const [, key, op] = m
    return op === 'in' ? (l) => key in l && values.includes(l[key]) : (l) => !(key in l) || !values.includes(l[key])
  }
  if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(req))) {
    const [, key, op, value] = m
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value
  }
  if ((m = /^([\w./-]+)\s*(<|>)\s*(-?\d+)$/.exec(req))) {
    const [, key, op, value] = m
    return (l) => key in l && (op === '<' ? Number(l[key]) < Number(value) : Number(l[key]) > Number(value))
  }
  if ((m = /^([\w./-]+)$/.exec(req))) {
    const key = m[1]
    return (l) => key in l
  }
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(req)}`)
}

/**
 * @param {string | null | undefined} selector
 * @returns {(obj: any) => boolean}
 */
export function parseLabelSelector(selector) {
  if (!selector) return () => true
  const reqs = splitTopLevel(selector).map(labelRequirement)
  return (obj) => {
    const labels = obj.metadata?.labels || {}
    return reqs.every((r) => r(labels))
  }
}

/** @param {any} obj @param {string} path */
function fieldValue(obj, path) {
  let v = obj
  for (const part of path.split('.')) v = v == null ? undefined : v[part]
  return v == null ? '' : String(v)
}

/**
 * Field selectors on any dotted path (metadata.name, metadata.namespace, involvedObject.name,
 * status.phase, type…). A real server only allows a fixed set per kind; being lenient here is harmless.
 * @param {string | null | undefined} selector
 * @returns {(obj: any) => boolean}
 */
export function parseFieldSelector(selector) {
  if (!selector) return () => true
  const reqs = splitTopLevel(selector).map((req) => {
    const m = /^([\w.-]+)\s*(==|=|!=)\s*(.*)$/.exec(req)
    if (!m) throw new SelectorError(`invalid selector: '${req}'; can't understand '${req}'`)
    const [, path, op, value] = m
    return op === '!='
      ? (/** @type {any} */ o) => fieldValue(o, path) !== value
      : (/** @type {any} */ o) => fieldValue(o, path) === value
  })
  return (obj) => reqs.every((r) => r(obj))
}
