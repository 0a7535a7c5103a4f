// REST for every served kind: /api/v1/... and /apis/<group>/<version>/..., namespaced or not,
// with the status and scale subresources, dry runs, selectors, Tables and watches.
import { sendPodLog } from './logs.js'
import { randomBytes, randomUUID } from 'node:crypto'
import { apiVersionOf, hasGeneration } from './resources.js'
import { ApiError, errors } from './status.js'
import { sendJson, readJsonBody } from './http.js'
import { parseLabelSelector, parseFieldSelector } from './selectors.js'
import { mergePatch, strategicMergePatch, jsonPatch, PatchError } from './patch.js'
import { validate } from './defaults.js'
import { wantsTable, toTable } from './table.js'
import { serveWatch } from './watch.js'
import { nowTimestamp } from './store.js'
import { managerFromUserAgent, serverSideApply, trackUpdate } from './managedfields.js'

/** @typedef {import('./context.js').ServerContext} ServerContext */
/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./resources.js').Resource} Resource */
/** @typedef {{ resource: Resource, namespace: string | undefined, name: string | undefined, subresource: string | undefined }} Target */
/** @typedef {Target & { apiVersion: string }} VersionedTarget the target, shown in the version the URL asked for */
/** @typedef {import('./managedfields.js').Writer | 'applied'} Ownership an update's writer, or managedFields server-side apply computed */

/**
 * Map URL segments after the group/version to a resource:
 * [plural], [plural, name, sub?], [namespaces, ns, plural], [namespaces, ns, plural, name, sub?].
 * @param {import('./resources.js').ResourceRegistry} registry
 * @param {string} group
 * @param {string} version
 * @param {string[]} segs
 * @returns {Target | undefined}
 */
export function resolveTarget(registry, group, version, segs) {
  /** @type {string | undefined} */
  let namespace
  let rest = segs
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    const r = registry.byPlural(group, version, segs[2])
    if (r?.namespaced) {
      namespace = segs[1]
      rest = segs.slice(2)
    }
  }
  const resource = registry.byPlural(group, version, rest[0])
  if (!resource || rest.length > 3) return undefined
  // A namespaced kind without a namespace is only reachable as a list across all namespaces.
  if (resource.namespaced && namespace === undefined && rest.length > 1) return undefined
  const [, name, subresource] = rest
  if (subresource && !resource.subresources.includes(subresource)) return undefined
  return { resource, namespace, name, subresource }
}

/**
 * The Kubernetes verb of a request, for authorization messages.
 * @param {string} method @param {Target} target @param {boolean} watch
 */
export function verbOf(method, target, watch) {
  if (method === 'GET') return watch ? 'watch' : target.name ? 'get' : 'list'
  if (method === 'DELETE') return target.name ? 'delete' : 'deletecollection'
  return (
    /** @type {Record<string, string>} */ ({ POST: 'create', PUT: 'update', PATCH: 'patch' })[method] ||
    method.toLowerCase()
  )
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'
export function randomSuffix(n = 5) {
  return [...randomBytes(n)].map((b) => NAME_CHARS[b % NAME_CHARS.length]).join('')
}

/**
 * Serve one REST request; throws ApiError for the caller to turn into a Status.
 * @param {ServerContext} ctx
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {string} group
 * @param {string} version
 * @param {Target} target
 */
export async function serveResource(ctx, req, res, url, group, version, target) {
  const { resource: r, namespace, name, subresource } = target
  const apiVersion = apiVersionOf(group, version)
  const q = url.searchParams
  const dryRun = q.getAll('dryRun').includes('All')
  /** @type {VersionedTarget} */
  const t = { ...target, apiVersion }
  // Who owns the fields this write sets (managedfields.js): ?fieldManager=, else the User-Agent's first word.
  /** @type {Ownership} */
  const update = {
    manager: q.get('fieldManager') || managerFromUserAgent(req.headers['user-agent']),
    apiVersion,
    subresource,
    crd: Boolean(r.crd)
  }

  switch (req.method) {
    case 'GET': {
      const watch = q.get('watch') === 'true' || q.get('watch') === '1'
      if (watch) return watchResources(ctx, req, res, q, t)
      if (subresource === 'log') return sendPodLog(ctx, res, q, getExisting(ctx, t))
      if (name) return sendObject(req, res, q, t, getExisting(ctx, t))
      return sendList(ctx, req, res, q, t)
    }
    case 'POST': {
      const { body } = await readJsonBody(req)
      if (subresource === 'token') return sendJson(res, 201, tokenRequest(ctx, t, getExisting(ctx, t), body))
      if (name) throw errors.methodNotAllowed()
      return sendJson(res, 201, create(ctx, t, body, dryRun, update))
    }
    case 'PUT': {
      if (!name) throw errors.methodNotAllowed()
      const { body } = await readJsonBody(req)
      const existing = getExisting(ctx, t)
      return sendJson(res, 200, replace(ctx, t, existing, body, dryRun, update))
    }
    case 'PATCH': {
      if (!name) throw errors.methodNotAllowed()
      const { type, body } = await readJsonBody(req)
      const existing = ctx.store.get(apiVersion, r.kind, namespace, name)
      if (type === 'application/apply-patch+yaml') {
        // PatchOptions validation (k8s.io/apimachinery/pkg/apis/meta/v1/validation ValidatePatchOptions).
        if (!q.get('fieldManager'))
          throw new ApiError(
            422,
            'Invalid',
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
            {
              group: 'meta.k8s.io',
              kind: 'PatchOptions',
              causes: [
                {
                  reason: 'FieldValueRequired',
                  message: 'Required value: is required for apply patch',
                  field: 'fieldManager'
                }
              ]
            }
          )
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw errors.badRequest('the body of the request must be a JSON object')
        normalize(t, body)
        const force = q.get('force') === 'true'
        const next = serverSideApply(existing, { ...body, metadata: { ...body.metadata, name } }, { ...update, force })
        // Server-side apply creates what does not exist yet.
        if (!existing && !subresource) return sendJson(res, 201, create(ctx, t, next, dryRun, 'applied'))
        if (!existing) throw errors.notFound(r, name)
        return sendJson(res, 200, replace(ctx, t, existing, next, dryRun, 'applied'))
      }
      if (!existing) throw errors.notFound(r, name)
      const current = subresource === 'scale' ? toScale(existing) : existing
      const patched = applyPatch(r, type, current, body)
      return sendJson(res, 200, replace(ctx, t, existing, patched, dryRun, update))
    }
    case 'DELETE': {
      const { body } = await readJsonBody(req)
      const dry = dryRun || (body?.dryRun || []).includes('All')
      if (name) return sendJson(res, 200, remove(ctx, t, getExisting(ctx, t), dry))
      const items = selected(ctx, q, t).map((o) => remove(ctx, t, o, dry))
      return sendJson(res, 200, {
        kind: `${r.kind}List`,
        apiVersion,
        metadata: { resourceVersion: ctx.store.resourceVersion },
        items
      })
    }
    default:
      throw errors.methodNotAllowed()
  }
}

/**
 * The object a named request is about.
 * @param {ServerContext} ctx @param {VersionedTarget} t one with a name
 */
function getExisting(ctx, { apiVersion, resource: r, namespace, name }) {
  const obj = ctx.store.get(apiVersion, r.kind, namespace, /** @type {string} */ (name))
  if (!obj) throw errors.notFound(r, /** @type {string} */ (name))
  return obj
}

/** @param {ServerContext} ctx @param {URLSearchParams} q @param {VersionedTarget} t @returns {KubeObject[]} */
function selected(ctx, q, { apiVersion, resource: r, namespace }) {
  const labels = parseLabelSelector(q.get('labelSelector'))
  const fields = parseFieldSelector(q.get('fieldSelector'))
  return ctx.store.list(apiVersion, r.kind, namespace).filter((o) => labels(o) && fields(o))
}

/**
 * @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 * @param {URLSearchParams} q @param {VersionedTarget} t @param {KubeObject} obj
 */
function sendObject(req, res, q, t, obj) {
  if (t.subresource === 'scale') return sendJson(res, 200, toScale(obj))
  if (wantsTable(req.headers.accept)) {
    return sendJson(
      res,
      200,
      toTable(t.resource, [obj], {
        resourceVersion: obj.metadata.resourceVersion,
        includeObject: q.get('includeObject') || undefined
      })
    )
  }
  return sendJson(res, 200, obj)
}

/**
 * @param {ServerContext} ctx @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 * @param {URLSearchParams} q @param {VersionedTarget} t
 */
function sendList(ctx, req, res, q, t) {
  const items = selected(ctx, q, t)
  const resourceVersion = ctx.store.resourceVersion
  if (wantsTable(req.headers.accept)) {
    return sendJson(
      res,
      200,
      toTable(t.resource, items, { resourceVersion, includeObject: q.get('includeObject') || undefined })
    )
  }
  return sendJson(res, 200, {
    kind: `${t.resource.kind}List`,
    apiVersion: t.apiVersion,
    metadata: { resourceVersion },
    items
  })
}

/**
 * @param {ServerContext} ctx @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 * @param {URLSearchParams} q @param {VersionedTarget} t
 */
function watchResources(ctx, req, res, q, t) {
  const labels = parseLabelSelector(q.get('labelSelector'))
  let fieldSelector = q.get('fieldSelector')
  // The old per-object watch URL (…/pods/<name>?watch=true) means fieldSelector metadata.name=<name>.
  if (t.name) fieldSelector = [fieldSelector, `metadata.name=${t.name}`].filter(Boolean).join(',')
  const fields = parseFieldSelector(fieldSelector)
  serveWatch(ctx, res, {
    resource: t.resource,
    apiVersion: t.apiVersion,
    namespace: t.namespace,
    selects: (o) => labels(o) && fields(o),
    resourceVersion: q.get('resourceVersion') || '',
    timeoutSeconds: Number(q.get('timeoutSeconds') || 0),
    table: wantsTable(req.headers.accept),
    includeObject: q.get('includeObject') || undefined,
    sendInitialEvents: q.get('sendInitialEvents') === 'true'
  })
}

// --- writes ------------------------------------------------------------------------------------

/**
 * Body kind/apiVersion/name/namespace must agree with the URL; fill in what is missing.
 * @param {VersionedTarget} t @param {any} body
 * @returns {KubeObject}
 */
function normalize(t, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw errors.badRequest('the body of the request must be a JSON object')
  const { resource: r } = t
  if (body.kind && body.kind !== r.kind) {
    throw errors.badRequest(
      `the API version in the data (${body.apiVersion}) does not match the expected API version (${t.apiVersion}) or kind ${body.kind} is not ${r.kind}`
    )
  }
  // apiVersion and kind first, as the real server serializes them.
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = structuredClone(body)
  const obj = { apiVersion: t.apiVersion, kind: r.kind, ...rest, metadata: { ...rest.metadata } }
  if (r.namespaced && t.namespace) {
    if (obj.metadata.namespace && obj.metadata.namespace !== t.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    obj.metadata.namespace = t.namespace
  }
  if (!r.namespaced) delete obj.metadata.namespace
  return obj
}

/**
 * @param {ServerContext} ctx @param {VersionedTarget} t @param {any} body @param {boolean} dryRun @param {Ownership} owner
 * @returns {KubeObject}
 */
function create(ctx, t, body, dryRun, owner) {
  const { resource: r } = t
  const obj = normalize(t, body)
  if (r.namespaced) {
    if (!t.namespace) throw errors.badRequest('the server could not find the requested resource (namespace required)')
    if (!ctx.store.get('v1', 'Namespace', undefined, t.namespace)) throw errors.namespaceNotFound(t.namespace)
  }
  if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + randomSuffix()
  if (!obj.metadata.name)
    throw errors.invalid(r, '', 'metadata.name', 'Required value: name or generateName is required')
  if (ctx.store.get(t.apiVersion, r.kind, obj.metadata.namespace, obj.metadata.name))
    throw errors.alreadyExists(r, obj.metadata.name)
  const applied = owner === 'applied' ? obj.metadata.managedFields : undefined
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'deletionTimestamp', 'managedFields'])
    delete obj.metadata[k]
  // Status is the controllers' business: a create through the main resource cannot set it.
  if (r.subresources.includes('status')) delete obj.status
  ctx.defaulter.apply(r.kind, obj)
  validate(r, obj)
  // A create's writer owns everything in it, defaults too; an applier only what it applied.
  obj.metadata.managedFields = owner === 'applied' ? applied : trackUpdate(undefined, obj, owner)
  if (dryRun) {
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        uid: randomUUID(),
        creationTimestamp: nowTimestamp(),
        ...(hasGeneration(r.kind) ? { generation: 1 } : {})
      }
    }
  }
  return ctx.store.put(obj)
}

/**
 * Update (PUT, or the result of a PATCH) of the object itself or its status/scale subresource.
 * @param {ServerContext} ctx @param {VersionedTarget} t one with a name @param {KubeObject} existing @param {any} body @param {boolean} dryRun
 * @param {Ownership} owner
 * @returns {KubeObject}
 */
function replace(ctx, t, existing, body, dryRun, owner) {
  const { resource: r, subresource } = t
  const name = /** @type {string} */ (t.name)
  if (subresource === 'scale') {
    const replicas = body?.spec?.replicas
    if (!Number.isInteger(replicas) || replicas < 0)
      throw errors.invalid(
        r,
        name,
        'spec.replicas',
        `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`
      )
    const obj = { ...existing, spec: { ...existing.spec, replicas } }
    return toScale(dryRun ? obj : ctx.store.put(obj))
  }
  const incoming = normalize(t, body)
  if (incoming.metadata.name && incoming.metadata.name !== name) {
    throw errors.badRequest(
      `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`
    )
  }
  incoming.metadata.name = name
  const rv = incoming.metadata.resourceVersion
  if (rv && rv !== existing.metadata.resourceVersion) throw errors.conflict(r, name)

  let obj
  if (subresource === 'status') {
    obj = { ...existing, status: incoming.status }
  } else {
    obj = incoming
    // Writes to the main resource cannot change status when the kind has a status subresource.
    if (r.subresources.includes('status')) {
      if (existing.status === undefined) delete obj.status
      else obj.status = existing.status
    }
  }
  ctx.defaulter.apply(r.kind, obj, existing)
  validate(r, obj)
  // What a client sends in managedFields is not taken; the server tracks the change (managedfields.js).
  const managed = owner === 'applied' ? incoming.metadata.managedFields : trackUpdate(existing, obj, owner)
  if (managed) obj.metadata.managedFields = managed
  else delete obj.metadata.managedFields
  if (dryRun)
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        uid: existing.metadata.uid,
        creationTimestamp: existing.metadata.creationTimestamp,
        resourceVersion: existing.metadata.resourceVersion
      }
    }
  return ctx.store.put(obj)
}

/** @param {ServerContext} ctx @param {VersionedTarget} t @param {KubeObject} obj @param {boolean} dryRun @returns {KubeObject} */
function remove(ctx, t, obj, dryRun) {
  if (dryRun) return obj
  return ctx.store.delete(t.apiVersion, t.resource.kind, obj.metadata.namespace, obj.metadata.name) || obj
}

/** @param {Resource} r @param {string} type @param {KubeObject} current @param {any} patch @returns {KubeObject} */
function applyPatch(r, type, current, patch) {
  try {
    switch (type) {
      case 'application/merge-patch+json':
        return mergePatch(current, patch)
      case 'application/strategic-merge-patch+json':
        // As on a real server: custom resources have no patch strategy metadata.
        if (r.crd)
          throw errors.unsupportedMediaType(`${type} (strategic merge patch is not supported for custom resources)`)
        return strategicMergePatch(current, patch)
      case 'application/json-patch+json':
        return jsonPatch(current, patch)
      case 'application/apply-patch+yaml':
        // Server-side apply, simplified: the applied configuration is merged in; nothing is pruned.
        return r.crd ? mergePatch(current, patch) : strategicMergePatch(current, patch)
      default:
        throw errors.unsupportedMediaType(type)
    }
  } catch (e) {
    if (e instanceof PatchError) throw errors.invalid(r, current.metadata?.name || '', '', e.message)
    throw e
  }
}

/** @param {KubeObject} obj */
function toScale(obj) {
  const selector = Object.entries(obj.spec?.selector?.matchLabels || {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp
    },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas || 0, selector }
  }
}

// POST serviceaccounts/<name>/token (TokenRequest): a token valid on this server for that account.
/** @param {ServerContext} ctx @param {VersionedTarget} t @param {KubeObject} sa @param {any} body */
function tokenRequest(ctx, t, sa, body) {
  const seconds = body?.spec?.expirationSeconds || 3600
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: sa.metadata.name, namespace: sa.metadata.namespace, creationTimestamp: null },
    spec: { audiences: [], ...body?.spec, expirationSeconds: seconds },
    status: {
      // Service accounts are namespaced: a token request always names the namespace.
      token: ctx.issueToken(/** @type {string} */ (t.namespace), sa.metadata.name),
      expirationTimestamp: new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    }
  }
}
