// One request, in the order a real server (plus the network in front of it) would fail it:
// record → latency → transport faults → authentication → forbid faults → admission (webhook faults) → route.
import { ServerResponse } from 'node:http'
import { sendJson, sendError } from './http.js'
import { ApiError, errors, statusBody } from './status.js'
import { statusFaultBody, webhookFaultBody } from './faults.js'
import { SelectorError } from './selectors.js'
import {
  versionInfo,
  apiVersions,
  apiGroupList,
  apiGroupDoc,
  apiResourceList,
  openApiRoot,
  openApiGroupVersionDoc
} from './discovery.js'
import { resolveTarget, serveResource, verbOf } from './rest.js'
import { execTarget, execForbidden, serveExec } from './exec.js'
import { logForbidden, logTarget, servePodLog } from './logs.js'
import { envoyClusters } from './proxy-clusters.js'

/** @typedef {import('./context.js').ServerContext} ServerContext */
/** @typedef {{ socket: import('node:net').Socket, head: Buffer }} Upgrade */

/**
 * A request that came through the server's 'upgrade' event (Connection: Upgrade): served like any other,
 * on an HTTP response written to the raw socket, except that pods/exec may take the socket over.
 * @param {ServerContext} ctx
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:net').Socket} socket
 * @param {Buffer} head
 */
export function handleUpgrade(ctx, req, socket, head) {
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket)
  res.on('finish', () => {
    if (res.socket) res.detachSocket(socket)
    socket.end()
  })
  socket.on('error', () => socket.destroy())
  // Tracked so close() can end it: once upgraded, the HTTP server no longer manages the connection.
  ctx.sockets.add(socket)
  socket.on('close', () => ctx.sockets.delete(socket))
  return handleRequest(ctx, req, res, { socket, head })
}

/**
 * @param {ServerContext} ctx
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {Upgrade} [upgrade] set by handleUpgrade
 */
export async function handleRequest(ctx, req, res, upgrade) {
  // Node's server always sets url and method on a request it parsed.
  const rawUrl = /** @type {string} */ (req.url)
  const method = /** @type {string} */ (req.method)
  const url = new URL(rawUrl, 'https://sim.invalid')
  const path = url.pathname
  const sim = path.startsWith('/sim/')
  // Recorded before anything can fail, so tests can assert that a run never reached a cluster.
  ctx.requests.push({ method, path, url: rawUrl, userAgent: req.headers['user-agent'] || '', at: Date.now(), sim })

  try {
    const delay = ctx.latencyMs + ctx.faults.latencyMs()
    if (delay > 0) await sleep(ctx, delay)
    if (ctx.closing || res.destroyed) return

    const fault = ctx.faults.takeTransportFault(method, rawUrl)
    if (fault?.kind === 'reset') return void req.socket.destroy()
    if (fault?.kind === 'hang') return // close() destroys the connection
    if (fault?.kind === 'status') {
      return sendJson(
        res,
        fault.code,
        statusFaultBody(fault.code),
        fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {}
      )
    }

    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization || '')
    const user = ctx.userFor(auth?.[1].trim())
    if (!user) return sendJson(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'))

    await route(ctx, req, res, url, user, upgrade)
  } catch (err) {
    if (err instanceof SelectorError) return sendError(res, errors.badRequest(err.message))
    sendError(res, err)
  }
}

/**
 * @param {ServerContext} ctx
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {string} user
 * @param {Upgrade} [upgrade]
 */
async function route(ctx, req, res, url, user, upgrade) {
  const method = /** @type {string} */ (req.method)
  const rawUrl = /** @type {string} */ (req.url)
  const path = url.pathname.replace(/\/+$/, '') || '/'
  const segs = path.split('/').filter(Boolean)
  const { registry } = ctx

  const log = logTarget(segs)
  if (log && method === 'GET') {
    if (ctx.faults.takeForbid(method, rawUrl)) throw logForbidden(user, log)
    return servePodLog(ctx, res, url, log)
  }

  const exec = execTarget(segs)
  if (exec) {
    if (ctx.faults.takeForbid(method, rawUrl)) throw execForbidden(user, method, exec)
    return serveExec(ctx, req, res, url, exec, upgrade)
  }

  // Resource requests resolve first, so a forbid fault can name the resource like the real message does.
  /** @type {{ group: string, version: string, rest: string[] } | undefined} */
  let api
  if (segs[0] === 'api' && segs.length >= 2) api = { group: '', version: segs[1], rest: segs.slice(2) }
  if (segs[0] === 'apis' && segs.length >= 3) api = { group: segs[1], version: segs[2], rest: segs.slice(3) }
  const target = api && api.rest.length ? resolveTarget(registry, api.group, api.version, api.rest) : undefined

  if (segs[0] !== 'sim' && ctx.faults.takeForbid(method, rawUrl)) {
    if (target) {
      const verb = verbOf(method, target, url.searchParams.get('watch') === 'true')
      throw errors.forbidden(user, verb, target.resource, target.namespace, target.name)
    }
    throw new ApiError(
      403,
      'Forbidden',
      `forbidden: User "${user}" cannot ${method.toLowerCase()} path "${url.pathname}"`,
      {}
    )
  }

  if (api && target) {
    // Admission runs after authorization and before storage: a webhook that cannot be called fails the write.
    const hook = ctx.faults.takeWebhook(method, rawUrl)
    if (hook) {
      const ip = ctx.store.get('v1', 'Service', hook.namespace || 'istio-system', hook.service || 'istiod')?.spec
        ?.clusterIP
      return sendJson(res, 500, webhookFaultBody(hook, ip))
    }
    return serveResource(ctx, req, res, url, api.group, api.version, target)
  }
  if (method !== 'GET') throw api ? errors.noResource() : errors.methodNotAllowed()

  switch (path) {
    case '/version':
      return sendJson(res, 200, versionInfo())
    case '/healthz':
    case '/livez':
    case '/readyz':
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
      return void res.end('ok')
    case '/api':
      return sendJson(res, 200, apiVersions(`${ctx.reachableHost}:${ctx.port}`))
    case '/apis':
      return sendJson(res, 200, apiGroupList(registry))
    case '/openapi/v3':
      return sendJson(res, 200, openApiRoot(registry))
    case '/openapi/v2':
      // kubectl falls back to v2 to validate kinds missing from v3 (a CR without its CRD). An empty
      // protobuf message is a valid, empty Document: validation is skipped and kubectl then reports
      // "no matches for kind", as it does against a real server.
      res.writeHead(200, {
        'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
        'Content-Length': 0
      })
      return void res.end()
    case '/sim/v1/proxy-clusters': {
      // A pod's Envoy /clusters?format=json, for the simulated `istioctl proxy-config endpoint` (proxy-clusters.js).
      const ns = url.searchParams.get('namespace') || ''
      const podName = url.searchParams.get('pod') || ''
      const pod = ctx.store.get('v1', 'Pod', ns, podName)
      if (!pod) throw errors.notFound({ group: '', plural: 'pods', kind: 'Pod' }, podName)
      return sendJson(res, 200, envoyClusters(ctx.mesh, /** @type {any} */ (ctx.meshPeer), pod))
    }
    case '/sim/v1/behaviour': {
      const op = url.searchParams.get('op') || ''
      /** @type {{ delayMs: number, fail: string | null, remoteClusters?: object }} */
      const answer = { delayMs: ctx.istioctlDelays[op] || 0, fail: ctx.faults.takeIstioctl(op) }
      // What istiod's secret controller would report, for the simulated remote-clusters (istioctl/remote-clusters.js).
      if (op === 'remote-clusters')
        answer.remoteClusters = {
          ...ctx.remoteClusters,
          unreachableFrom: ctx.faults.unreachableFrom(),
          // API server addresses a firewall or an intercepting proxy keeps istiod from (network.js).
          network: ctx.mesh.network.istiodView(ctx.name)
        }
      return sendJson(res, 200, answer)
    }
  }

  if (segs[0] === 'openapi' && segs[1] === 'v3') {
    const gv =
      segs[2] === 'api'
        ? { group: '', version: segs[3] }
        : segs[2] === 'apis'
          ? { group: segs[3], version: segs[4] }
          : undefined
    const doc = gv && openApiGroupVersionDoc(registry, gv.group, gv.version)
    if (doc) return sendJson(res, 200, doc)
  }
  if (api && !api.rest.length) {
    const list = apiResourceList(registry, api.group, api.version)
    if (list) return sendJson(res, 200, list)
  }
  if (segs[0] === 'apis' && segs.length === 2) {
    const group = apiGroupDoc(registry, segs[1])
    if (group) return sendJson(res, 200, group)
  }
  // Unknown paths: the real server's bare 404 for paths outside any API group.
  if (!api) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
    return void res.end('404 page not found\n')
  }
  throw errors.noResource()
}

/** @param {ServerContext} ctx @param {number} ms @returns {Promise<void>} */
function sleep(ctx, ms) {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      ctx.timers.delete(t)
      resolve()
    }, ms)
    ctx.timers.add(t)
  })
}
