// Injected faults, per cluster and combinable. A fault without `count` lasts until cleared.
//   { kind: 'latency', ms }                                 extra delay on every request
//   { kind: 'status', code, count?, retryAfter?, match? }   answer with a Status of that code
//   { kind: 'reset', count?, match? }                       destroy the socket without answering
//   { kind: 'hang', count?, match? }                        never answer
//   { kind: 'expireToken' }                                 the admin token is refused (401)
//   { kind: 'forbid', count?, match? }                      403 Forbidden
//   { kind: 'istioctl', op, times?: N|'always', message }   the simulated istioctl's operation fails
//   { kind: 'webhook', count?, match?, webhook?, service?, namespace?, path?, cause? }
//                                                           a write (POST/PUT/PATCH) fails as when an admission
//                                                           webhook's backend is down (see webhookFaultBody)
//   { kind: 'unreachableFrom', cluster, pod?, labels? }     `istioctl remote-clusters`: from the istiod pods whose
//                                                           name starts with `pod` and that carry `labels`, the
//                                                           API server of remote cluster `cluster` cannot be
//                                                           reached (a NetworkPolicy, a node without a route)
// match: { method?, pathIncludes? } against the request method and URL (path + query).
// Requests to /sim/… (the simulator's own endpoints) are only hit by faults whose pathIncludes names them.

/** @typedef {import('./index.js').Fault} Fault */
/** @typedef {Fault & { remaining: number }} ActiveFault a fault and how many more requests it hits */
/** @typedef {Extract<Fault, { kind: 'webhook' }>} WebhookFault */

const KINDS = new Set([
  'latency',
  'status',
  'reset',
  'hang',
  'expireToken',
  'forbid',
  'istioctl',
  'webhook',
  'unreachableFrom'
])
const WRITES = new Set(['POST', 'PUT', 'PATCH'])

/** @type {Record<number, string>} */
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
/** @type {Record<number, string>} */
const MESSAGES = {
  429: 'Too many requests, please try again later.',
  503: 'the server is currently unable to handle the request',
  504: 'the server was unable to return a response in the time allotted, but may still be processing the request'
}

/** @param {number} code */
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

/**
 * The API server's answer when it cannot call a webhook whose failurePolicy is Fail: a 500 InternalError Status.
 * k8s.io/apiserver/pkg/admission/plugin/webhook/validating/dispatcher.go (mutating likewise): callHook wraps the
 * REST client's error as ErrCallingWebhook{Reason: "failed to call webhook: <err>"}, whose Error() is
 * `failed calling webhook "<name>": <reason>` (pkg/util/webhook/error.go), and the dispatcher returns
 * apierrors.NewInternalError(that): message "Internal error occurred: <err>", details.causes [{ message: <err> }].
 * The REST client's error is Go's url.Error, `Post "<url>": <cause>`, the URL carrying ?timeout=10s (the webhook's
 * default timeoutSeconds). Causes, by how the backend is gone:
 *   no-endpoints  endpoint routing finds no ready pod (pkg/util/proxy/proxy.go ResolveEndpoint):
 *                 `no endpoints available for service "istiod"`
 *   refused       ClusterIP routing (kind's default): `dial tcp <cluster IP>:443: connect: connection refused`
 *   deadline      the backend accepts but does not answer within the timeout: `context deadline exceeded`
 * Defaults name Istio's own validating webhook (manifests/charts/base/templates/
 * defaultrevision-validatingwebhookconfiguration.yaml@1.30.3: validation.istio.io → istiod.istio-system, /validate).
 * @param {Omit<WebhookFault, 'kind'>} fault
 * @param {string} [clusterIP]
 */
export function webhookFaultBody(fault, clusterIP = '10.96.0.10') {
  const service = fault.service || 'istiod'
  const namespace = fault.namespace || 'istio-system'
  const url = `https://${service}.${namespace}.svc:443${fault.path || '/validate'}?timeout=10s`
  const cause = fault.cause || 'no-endpoints'
  const why =
    cause === 'refused'
      ? `dial tcp ${clusterIP}:443: connect: connection refused`
      : cause === 'deadline'
        ? 'context deadline exceeded'
        : `no endpoints available for service "${service}"`
  const callErr = `failed calling webhook "${fault.webhook || 'validation.istio.io'}": failed to call webhook: Post "${url}": ${why}`
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${callErr}`,
    reason: 'InternalError',
    details: { causes: [{ message: callErr }] },
    code: 500
  }
}

export class Faults {
  /** @type {ActiveFault[]} */
  #faults = []

  /**
   * Adds a fault; returns a function that removes it again.
   * @param {Fault} fault
   */
  add(fault) {
    if (!fault || !KINDS.has(fault.kind)) throw new Error(`unknown fault kind: ${JSON.stringify(fault?.kind)}`)
    if (fault.kind === 'status' && !Number.isInteger(fault.code)) throw new Error('a status fault needs a numeric code')
    if (fault.kind === 'istioctl' && !fault.op) throw new Error('an istioctl fault needs op')
    if (fault.kind === 'webhook' && !['no-endpoints', 'refused', 'deadline', undefined].includes(fault.cause))
      throw new Error(
        `a webhook fault's cause is no-endpoints, refused or deadline, got ${JSON.stringify(fault.cause)}`
      )
    if (fault.kind === 'unreachableFrom' && !fault.cluster) throw new Error('an unreachableFrom fault needs cluster')
    // Every kind but istioctl (times) and the standing ones (latency, expireToken, unreachableFrom: no count) may have a count.
    const count = /** @type {{ count?: number }} */ (fault).count
    const remaining =
      fault.kind === 'istioctl'
        ? fault.times === 'always' || fault.times === undefined
          ? Infinity
          : fault.times
        : (count ?? Infinity)
    /** @type {ActiveFault} */
    const f = { ...fault, remaining }
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

  /**
   * Consume the first matching status/reset/hang fault, if any.
   * @param {string} method @param {string} url
   */
  takeTransportFault(method, url) {
    return this.#take(
      (f) => (f.kind === 'status' || f.kind === 'reset' || f.kind === 'hang') && matches(f, method, url)
    )
  }

  /**
   * Consume a matching forbid fault, if any.
   * @param {string} method @param {string} url
   */
  takeForbid(method, url) {
    return this.#take((f) => f.kind === 'forbid' && matches(f, method, url))
  }

  /**
   * Consume a matching webhook fault for this write, if any (reads never go through admission).
   * @param {string} method @param {string} url
   * @returns {WebhookFault | undefined}
   */
  takeWebhook(method, url) {
    return /** @type {WebhookFault | undefined} */ (
      this.#take((f) => f.kind === 'webhook' && WRITES.has(method.toUpperCase()) && matches(f, method, url))
    )
  }

  /** The `unreachableFrom` faults, as the simulated istioctl's remote-clusters applies them (not consumed). */
  unreachableFrom() {
    return this.#faults
      .filter((f) => f.kind === 'unreachableFrom')
      .map(({ cluster, pod, labels }) => ({ cluster, pod, labels }))
  }

  /**
   * The failure message for the simulated istioctl's next `op`, or null.
   * @param {string} op
   */
  takeIstioctl(op) {
    const f = this.#take((x) => x.kind === 'istioctl' && x.op === op)
    return f?.kind === 'istioctl' ? f.message || `simulated istioctl ${op} failure` : null
  }

  /** @param {(f: ActiveFault) => boolean} pred */
  #take(pred) {
    const f = this.#faults.find((x) => x.remaining > 0 && pred(x))
    if (!f) return undefined
    if (--f.remaining <= 0) this.#remove(f)
    return f
  }

  /** @param {ActiveFault} f */
  #remove(f) {
    this.#faults = this.#faults.filter((x) => x !== f)
  }
}

/** @param {{ match?: import('./index.js').RequestMatch }} f @param {string} method @param {string} url */
function matches(f, method, url) {
  const m = f.match || {}
  const isSim = url.startsWith('/sim/')
  if (isSim && !(m.pathIncludes && url.includes(m.pathIncludes))) return false
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false
  if (m.pathIncludes && !url.includes(m.pathIncludes)) return false
  return true
}
