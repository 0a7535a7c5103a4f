// Discovery (/version, /api, /apis, /api/v1, /apis/<g>/<v>) and the minimal /openapi/v3 kubectl apply needs.
// Legacy (non-aggregated) discovery JSON only: kubectl v1.32 asks for aggregated v2 first but accepts
// application/json.
import { createHash } from 'node:crypto'
import { apiVersionOf } from './resources.js'

export function versionInfo() {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-sim',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.4',
    compiler: 'gc',
    platform: 'linux/amd64'
  }
}

/** @typedef {import('./resources.js').ResourceRegistry} ResourceRegistry */

/** @param {string} serverAddress */
export function apiVersions(serverAddress) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }]
  }
}

/** @param {{ name: string, versions: string[] }} g */
function apiGroup(g) {
  const versions = g.versions.map((version) => ({ groupVersion: apiVersionOf(g.name, version), version }))
  return { name: g.name, versions, preferredVersion: versions[0] }
}

/** @param {import('./resources.js').ResourceRegistry} registry */
export function apiGroupList(registry) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groups()
      .filter((g) => g.name)
      .map(apiGroup)
  }
}

/** @param {ResourceRegistry} registry @param {string} name */
export function apiGroupDoc(registry, name) {
  const g = registry.groups().find((x) => x.name === name)
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) }
}

/**
 * Verbs a subresource supports, as the real server lists them.
 * @type {Record<string, { verbs: string[], group?: string, version?: string, kind?: string }>}
 */
const SUBRESOURCE = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1', kind: 'Scale' },
  finalize: { verbs: ['update'] },
  token: { verbs: ['create'], group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }
}

/**
 * APIResourceList for one group/version, or undefined if nothing is served there.
 * @param {ResourceRegistry} registry @param {string} group @param {string} version
 */
export function apiResourceList(registry, group, version) {
  const rs = registry.inGroupVersion(group, version)
  if (!rs.length) return undefined
  /** @type {Array<Record<string, unknown>>} */
  const resources = []
  for (const r of rs) {
    /** @type {Record<string, unknown>} */
    const entry = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs }
    if (r.shortNames.length) entry.shortNames = r.shortNames
    if (r.categories.length) entry.categories = r.categories
    resources.push(entry)
    for (const sub of r.subresources) {
      const s = SUBRESOURCE[sub] || { verbs: ['get', 'patch', 'update'] }
      const subEntry = {
        name: `${r.plural}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s.kind || r.kind,
        verbs: s.verbs
      }
      if (s.group) Object.assign(subEntry, { group: s.group, version: s.version })
      resources.push(subEntry)
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources }
}

// --- OpenAPI v3 ----------------------------------------------------------------------------------
// kubectl apply reads it only to learn that the server validates fields (a PATCH operation per kind with
// x-kubernetes-group-version-kind and a fieldValidation parameter). No schemas: kubectl then computes
// strategic merge patches from its compiled-in types, and uses JSON merge patches for custom resources.

/** @param {string} group @param {string} version */
function gvPath(group, version) {
  return group ? `apis/${group}/${version}` : `api/${version}`
}

/** @param {ResourceRegistry} registry @param {string} group @param {string} version */
export function openApiGroupVersionDoc(registry, group, version) {
  const rs = registry.inGroupVersion(group, version)
  if (!rs.length) return undefined
  /** @type {Record<string, object>} */
  const paths = {}
  for (const r of rs) {
    const base = `/${gvPath(group, version)}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}`
    const gvk = { group, version, kind: r.kind }
    const fieldValidation = {
      name: 'fieldValidation',
      in: 'query',
      description:
        'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
      schema: { type: 'string', uniqueItems: true }
    }
    /** @param {string} action @param {string} verb */
    const op = (action, verb) => ({
      operationId: `${action}${r.kind}`,
      parameters: [fieldValidation],
      responses: { 200: { description: 'OK' } },
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk
    })
    paths[base] = { post: op('create', 'post') }
    paths[`${base}/{name}`] = { put: op('replace', 'put'), patch: op('patch', 'patch') }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (simulated)', version: 'v1.32.0' },
    paths,
    components: { schemas: {} }
  }
}

/**
 * The /openapi/v3 index; each entry's hash changes whenever its document does (kubectl caches by URL).
 * @param {ResourceRegistry} registry
 */
export function openApiRoot(registry) {
  /** @type {Record<string, { serverRelativeURL: string }>} */
  const paths = {}
  for (const g of registry.groups()) {
    for (const version of g.versions) {
      const doc = openApiGroupVersionDoc(registry, g.name, version)
      const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase()
      const p = gvPath(g.name, version)
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` }
    }
  }
  return { paths }
}
