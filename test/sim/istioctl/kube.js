// A small Kubernetes REST client: HTTPS with the kubeconfig's CA and credentials, JSON bodies, and
// client-go's wording for failures (so errors read like the real istioctl's).
import https from 'node:https'
import { pooledAgent } from './transport.js'
import http from 'node:http'
import { loadKubeconfig, resolveContext, clusterTls, userCredentials } from './kubeconfig.js'
import { CliError } from './errors.js'

/** @typedef {{ status: number, headers: import('node:http').IncomingHttpHeaders, body: any, text: string }} Response the body parsed as JSON, when it is */

/**
 * apiVersion/kind → REST resource, for the kinds istioctl touches: [plural, namespaced].
 * @type {Record<string, [string, boolean]>}
 */
const RESOURCES = {
  'v1/Namespace': ['namespaces', false],
  'v1/Secret': ['secrets', true],
  'v1/ConfigMap': ['configmaps', true],
  'v1/Service': ['services', true],
  'v1/ServiceAccount': ['serviceaccounts', true],
  'v1/Pod': ['pods', true],
  'discovery.k8s.io/v1/EndpointSlice': ['endpointslices', true],
  'apps/v1/Deployment': ['deployments', true],
  'apps/v1/DaemonSet': ['daemonsets', true],
  'rbac.authorization.k8s.io/v1/ClusterRole': ['clusterroles', false],
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ['clusterrolebindings', false],
  'rbac.authorization.k8s.io/v1/Role': ['roles', true],
  'rbac.authorization.k8s.io/v1/RoleBinding': ['rolebindings', true],
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': ['mutatingwebhookconfigurations', false],
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ['validatingwebhookconfigurations', false],
  'apiextensions.k8s.io/v1/CustomResourceDefinition': ['customresourcedefinitions', false],
  'policy/v1/PodDisruptionBudget': ['poddisruptionbudgets', true],
  'autoscaling/v2/HorizontalPodAutoscaler': ['horizontalpodautoscalers', true],
  'networking.istio.io/v1alpha3/EnvoyFilter': ['envoyfilters', true],
  'k8s.cni.cncf.io/v1/NetworkAttachmentDefinition': ['network-attachment-definitions', true]
}

/** @param {string} apiVersion @param {string} kind */
export function resourceOf(apiVersion, kind) {
  const r = RESOURCES[`${apiVersion}/${kind}`]
  if (!r) throw new Error(`sim istioctl: no REST mapping for ${apiVersion} ${kind}`)
  return { plural: r[0], namespaced: r[1] }
}

/**
 * Collection path, e.g. /apis/apps/v1/namespaces/istio-system/deployments; namespace '' = all namespaces.
 * @param {string} apiVersion @param {string} kind @param {string} [namespace]
 */
export function collectionPath(apiVersion, kind, namespace) {
  const { plural, namespaced } = resourceOf(apiVersion, kind)
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
  return namespaced && namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`
}

/** @param {string} apiVersion @param {string} kind @param {string | undefined} namespace @param {string} name */
export function objectPath(apiVersion, kind, namespace, name) {
  return `${collectionPath(apiVersion, kind, namespace)}/${encodeURIComponent(name)}`
}

export class KubeError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, reason?: string, network?: boolean }} [opts] the HTTP status and Status reason, or a transport failure
   */
  constructor(message, { status, reason, network } = {}) {
    super(message)
    this.name = 'KubeError'
    this.status = status
    this.reason = reason
    this.network = network
  }
}

/** @type {Record<number, string>} */
const REASON_TEXT = {
  400: 'the server rejected our request for an unknown reason',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'the server could not find the requested resource',
  405: 'the server does not allow this method on the requested resource',
  409: 'the server reported a conflict',
  422: 'the server rejected our request due to an error in our request',
  429: 'the server has received too many requests and has asked us to try again later',
  500: 'an error on the server has prevented the request from succeeding',
  503: 'the server is currently unable to handle the request'
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Go's net/http error text for the failures a user actually meets.
 * @param {NodeJS.ErrnoException} err @param {string} method @param {string} url
 */
function networkMessage(err, method, url) {
  const u = new URL(url)
  const hostPort = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`
  const verb = method[0] + method.slice(1).toLowerCase()
  let detail
  switch (err.code) {
    case 'ECONNREFUSED':
      detail = `dial tcp ${hostPort}: connect: connection refused`
      break
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      detail = `dial tcp: lookup ${u.hostname}: no such host`
      break
    case 'ETIMEDOUT':
    case 'SIM_TIMEOUT':
      detail = 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
      break
    case 'ECONNRESET':
      detail = `read tcp ${hostPort}: read: connection reset by peer`
      break
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      detail = 'tls: failed to verify certificate: x509: certificate signed by unknown authority'
      break
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      detail = `tls: failed to verify certificate: x509: certificate is valid for other names, not ${u.hostname}`
      break
    default:
      detail = err.message
  }
  return `${verb} "${url}": ${detail}`
}

export class Kube {
  /**
   * @param {{ server: string, caPem?: string, insecure?: boolean, tlsServerName?: string,
   *           token?: string, certPem?: string, keyPem?: string, basic?: {username: string, password: string},
   *           contextName?: string, timeoutMs?: number }} opts
   */
  constructor(opts) {
    this.server = opts.server.replace(/\/+$/, '')
    this.contextName = opts.contextName
    this.timeoutMs = opts.timeoutMs ?? 30000
    this.auth = opts.token
      ? `Bearer ${opts.token}`
      : opts.basic
        ? `Basic ${Buffer.from(`${opts.basic.username}:${opts.basic.password}`).toString('base64')}`
        : undefined
    /** @type {string | undefined} the kubeconfig's server, set by fromFlags */
    this.kubeconfigServer = undefined
    const isHttps = this.server.startsWith('https:')
    this.transport = isHttps ? https : http
    // Pooled per TLS config and kept alive, as client-go's transport cache does (transport.js).
    this.agent = pooledAgent({ https: isHttps, ...opts })
  }

  /**
   * Client for --kubeconfig/--context, like istioctl's CLIClient.
   * @param {{ kubeconfig?: string, context?: string, env?: NodeJS.ProcessEnv }} flags
   */
  static fromFlags({ kubeconfig, context, env = process.env }) {
    const cfg = loadKubeconfig({ kubeconfig, env })
    const ctx = resolveContext(cfg, context)
    const tls = clusterTls(ctx.cluster, ctx.clusterBaseDir)
    const creds = userCredentials(ctx.user, ctx.baseDir)
    const kube = new Kube({ ...tls, ...creds, contextName: ctx.contextName })
    kube.kubeconfigServer = ctx.cluster.server
    return kube
  }

  /**
   * @param {string} method @param {string} path @param {unknown} [body]
   * @param {{ timeoutMs?: number, headers?: Record<string, string> }} [opts]
   * @returns {Promise<Response>}
   */
  request(method, path, body, { timeoutMs = this.timeoutMs, headers = {} } = {}) {
    const url = this.server + path
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    return new Promise((resolvePromise, reject) => {
      const req = this.transport.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            Accept: 'application/json',
            'User-Agent': 'istioctl/sim',
            ...(this.auth ? { Authorization: this.auth } : {}),
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
            ...headers
          }
        },
        (res) => {
          /** @type {Buffer[]} */
          const chunks = []
          res.on('data', (/** @type {Buffer} */ c) => chunks.push(c))
          res.on('end', () => {
            clearTimeout(timer)
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed
            try {
              parsed = text ? JSON.parse(text) : undefined
            } catch {
              parsed = undefined
            }
            // A response to a client request always has its status code.
            resolvePromise({ status: /** @type {number} */ (res.statusCode), headers: res.headers, body: parsed, text })
          })
          res.on('error', (err) => {
            clearTimeout(timer)
            reject(new KubeError(networkMessage(err, method, url), { network: true }))
          })
        }
      )
      const timer = setTimeout(() => {
        const err = /** @type {NodeJS.ErrnoException} */ (new Error('timeout'))
        err.code = 'SIM_TIMEOUT'
        req.destroy(err)
      }, timeoutMs)
      req.on('error', (err) => {
        clearTimeout(timer)
        reject(new KubeError(networkMessage(err, method, url), { network: true }))
      })
      if (payload) req.write(payload)
      req.end()
    })
  }

  /**
   * Throw a client-go style StatusError for a non-2xx answer.
   * @param {Response} res
   */
  static statusError(res) {
    const status = res.body && res.body.kind === 'Status' ? res.body : undefined
    const message =
      status?.message ||
      REASON_TEXT[res.status] ||
      `an error on the server ("${res.text.slice(0, 200)}") has prevented the request from succeeding`
    return new KubeError(message, { status: res.status, reason: status?.reason })
  }

  /**
   * @param {string} method @param {string} path @param {unknown} [body]
   * @param {{ timeoutMs?: number, headers?: Record<string, string> }} [opts]
   * @returns {Promise<any>} the answer's body
   */
  async call(method, path, body, opts) {
    const res = await this.request(method, path, body, opts)
    if (res.status >= 200 && res.status < 300) return res.body
    throw Kube.statusError(res)
  }

  /**
   * GET an object; undefined when it does not exist.
   * @param {string} path @param {{ timeoutMs?: number, headers?: Record<string, string> }} [opts]
   * @returns {Promise<any>}
   */
  async get(path, opts) {
    const res = await this.request('GET', path, undefined, opts)
    if (res.status === 404) return undefined
    if (res.status >= 200 && res.status < 300) return res.body
    throw Kube.statusError(res)
  }

  /**
   * @param {string} path @param {{ labelSelector?: string, fieldSelector?: string }} [selectors]
   * @returns {Promise<any[] | undefined>} the items; undefined when the kind is not served
   */
  async list(path, { labelSelector, fieldSelector } = {}) {
    const q = new URLSearchParams()
    if (labelSelector) q.set('labelSelector', labelSelector)
    if (fieldSelector) q.set('fieldSelector', fieldSelector)
    const qs = q.toString()
    const res = await this.request('GET', qs ? `${path}?${qs}` : path)
    if (res.status === 404) return undefined
    if (res.status < 200 || res.status >= 300) throw Kube.statusError(res)
    return res.body?.items || []
  }

  /** @param {string} apiVersion @param {string} kind @param {string | undefined} namespace @param {string} name */
  getObject(apiVersion, kind, namespace, name) {
    return this.get(objectPath(apiVersion, kind, namespace, name))
  }

  /**
   * Create, or on 409 read the current object and replace it with its resourceVersion
   * (retrying on a write conflict). Returns the stored object.
   * @param {any} obj
   * @returns {Promise<any>}
   */
  async apply(obj) {
    const ns = obj.metadata.namespace
    const collection = collectionPath(obj.apiVersion, obj.kind, ns)
    const created = await this.request('POST', collection, obj)
    if (created.status >= 200 && created.status < 300) return created.body
    if (created.status !== 409) throw Kube.statusError(created)
    const path = objectPath(obj.apiVersion, obj.kind, ns, obj.metadata.name)
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(path)
      if (!current) return this.call('POST', collection, obj)
      const desired = mergeForUpdate(current, obj)
      const res = await this.request('PUT', path, desired)
      if (res.status >= 200 && res.status < 300) return res.body
      if (res.status !== 409 || attempt >= 4) throw Kube.statusError(res)
      await sleep(20)
    }
  }

  /**
   * Server-side apply, as Installer.serverSideApply does it (operator/pkg/install/install.go in 1.28.10, 1.29.6, 1.30.3):
   * a PATCH of type application/apply-patch+yaml with the object's JSON, fieldManager and force=true; it creates what
   * does not exist. Returns the stored object.
   * @param {any} obj @param {string} fieldManager
   * @returns {Promise<any>}
   */
  serverSideApply(obj, fieldManager) {
    const path = objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name)
    const q = new URLSearchParams({ fieldManager, force: 'true' })
    return this.call('PATCH', `${path}?${q}`, obj, { headers: { 'Content-Type': 'application/apply-patch+yaml' } })
  }

  /**
   * DELETE; false when already gone.
   * @param {string} apiVersion @param {string} kind @param {string | undefined} namespace @param {string} name
   */
  async remove(apiVersion, kind, namespace, name) {
    const res = await this.request('DELETE', objectPath(apiVersion, kind, namespace, name), {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Foreground'
    })
    if (res.status === 404) return false
    if (res.status >= 200 && res.status < 300) return true
    throw Kube.statusError(res)
  }

  /**
   * The simulator's per-operation knobs: { delayMs, fail }. An older server without them means "none".
   * @param {string} op
   * @returns {Promise<Record<string, any>>}
   */
  async behaviour(op) {
    const res = await this.request('GET', `/sim/v1/behaviour?op=${encodeURIComponent(op)}`)
    if (res.status === 404) return {}
    if (res.status < 200 || res.status >= 300) throw Kube.statusError(res)
    return res.body || {}
  }

  /** GET /version; undefined when the server does not serve it. */
  async serverVersion() {
    return this.get('/version')
  }
}

/**
 * What server-side apply with --force would leave: our fields win, fields set by others
 * (status, other labels/annotations, kubectl's restartedAt) stay.
 * @param {any} current @param {any} desired
 */
function mergeForUpdate(current, desired) {
  const out = { ...current, ...desired }
  out.metadata = {
    ...current.metadata,
    ...desired.metadata,
    labels: { ...(current.metadata?.labels || {}), ...(desired.metadata?.labels || {}) },
    annotations: { ...(current.metadata?.annotations || {}), ...(desired.metadata?.annotations || {}) },
    resourceVersion: current.metadata?.resourceVersion
  }
  if (current.status !== undefined) out.status = current.status
  // A Service keeps its allocated clusterIP / nodePorts, as the API server requires.
  if (current.kind === 'Service' && current.spec && out.spec) {
    out.spec = { ...out.spec }
    for (const k of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'healthCheckNodePort']) {
      if (current.spec[k] !== undefined && out.spec[k] === undefined) out.spec[k] = current.spec[k]
    }
  }
  return out
}

/**
 * Turn any failure into the CliError main prints; KubeErrors keep their client-go text.
 * @param {unknown} err
 * @returns {CliError}
 */
export function asCliError(err, prefix = '') {
  if (err instanceof CliError) return err
  if (err instanceof KubeError) return new CliError(prefix + err.message)
  throw err
}
