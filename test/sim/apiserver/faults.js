// Injected faults, per cluster and combinable. A fault without `count` lasts until cleared.
//   { kind: 'latency', ms }                                 extra delay on every request
//   { kind: 'status', code, count?, retryAfter?, match? }   answer with a Status of that code
//   { kind: 'reset', count?, match? }                       destroy the socket without answering
//   { kind: 'hang', count?, match? }                        never answer
//   { kind: 'expireToken' }                                 the admin token is refused (401)
//   { kind: 'forbid', count?, match? }                      403 Forbidden
//   { kind: 'istioctl', op, times?: N|'always', message }   the simulated istioctl's operation fails
//   { kind: 'unreachableFrom', cluster, pod?, labels? }     `istioctl remote-clusters`: from the istiod pods whose
//                                                           name starts with `pod` and that carry `labels`, the
//                                                           API server of remote cluster `cluster` cannot be
//                                                           reached (a NetworkPolicy, a node without a route)
// match: { method?, pathIncludes? } against the request method and URL (path + query).
// Requests to /sim/… (the simulator's own endpoints) are only hit by faults whose pathIncludes names them.

const KINDS = new Set(['latency', 'status', 'reset', 'hang', 'expireToken', 'forbid', 'istioctl', 'unreachableFrom'])

const REASONS = {
  400: 'BadRequest',
  404: 'NotFound',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout'
}
const MESSAGES = {
  429: 'Too many requests, please try again later.',
  503: 'the server is currently unable to handle the request',
  504: 'the server was unable to return a response in the time allotted, but may still be processing the request'
}

export function statusFaultBody(code) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: MESSAGES[code] || `simulated fault: HTTP ${code}`,
    reason: REASONS[code] || 'InternalError',
    code
  }
}

export class Faults {
  #faults = []

  /** Adds a fault; returns a function that removes it again. */
  add(fault) {
    if (!fault || !KINDS.has(fault.kind)) throw new Error(`unknown fault kind: ${JSON.stringify(fault?.kind)}`)
    if (fault.kind === 'status' && !Number.isInteger(fault.code)) throw new Error('a status fault needs a numeric code')
    if (fault.kind === 'istioctl' && !fault.op) throw new Error('an istioctl fault needs op')
    if (fault.kind === 'unreachableFrom' && !fault.cluster) throw new Error('an unreachableFrom fault needs cluster')
    const f = { ...fault }
    f.remaining = fault.kind === 'istioctl' ? (fault.times === 'always' || fault.times === undefined ? Infinity : fault.times) : (fault.count ?? Infinity)
    this.#faults.push(f)
    return () => this.#remove(f)
  }

  clear() {
    this.#faults = []
  }

  latencyMs() {
    return this.#faults.filter((f) => f.kind === 'latency').reduce((n, f) => n + (f.ms || 0), 0)
  }

  tokenExpired() {
    return this.#faults.some((f) => f.kind === 'expireToken')
  }

  /** Consume the first matching status/reset/hang fault, if any. */
  takeTransportFault(method, url) {
    return this.#take((f) => (f.kind === 'status' || f.kind === 'reset' || f.kind === 'hang') && matches(f, method, url))
  }

  /** Consume a matching forbid fault, if any. */
  takeForbid(method, url) {
    return this.#take((f) => f.kind === 'forbid' && matches(f, method, url))
  }

  /** The `unreachableFrom` faults, as the simulated istioctl's remote-clusters applies them (not consumed). */
  unreachableFrom() {
    return this.#faults.filter((f) => f.kind === 'unreachableFrom').map(({ cluster, pod, labels }) => ({ cluster, pod, labels }))
  }

  /** The failure message for the simulated istioctl's next `op`, or null. */
  takeIstioctl(op) {
    const f = this.#take((x) => x.kind === 'istioctl' && x.op === op)
    return f ? f.message || `simulated istioctl ${op} failure` : null
  }

  #take(pred) {
    const f = this.#faults.find((x) => x.remaining > 0 && pred(x))
    if (!f) return undefined
    if (--f.remaining <= 0) this.#remove(f)
    return f
  }

  #remove(f) {
    this.#faults = this.#faults.filter((x) => x !== f)
  }
}

function matches(f, method, url) {
  const m = f.match || {}
  const isSim = url.startsWith('/sim/')
  if (isSim && !(m.pathIncludes && url.includes(m.pathIncludes))) return false
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false
  if (m.pathIncludes && !url.includes(m.pathIncludes)) return false
  return true
}
