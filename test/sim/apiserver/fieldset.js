// Field sets of objects, as sigs.k8s.io/structured-merge-diff sees them (fieldpath, typed ToFieldSet, Merge,
// RemoveItems), for the simulated field manager (managedfields.js). A member is a path of elements: `f:<field>`,
// `k:<key JSON>` (a list-map item, its own member marked `.`), `v:<value JSON>` (a set's value); other lists and
// scalars are leaves. The FieldsV1 encoding (managedFields' fieldsV1) nests those elements.

// Not fields anyone manages (stripmeta.go), and status, which the main resource resets (resetFields).
const STRIPPED_META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds'
]

// x-kubernetes-list-map-keys of the built-in types; `ports` depends on where it is; finalizers are a set; every other
// list is atomic. Custom resources: the simulator serves no schemas, so all their lists are atomic.
/** @type {Record<string, string[]>} */
const LIST_MAP_KEYS = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  conditions: ['type'],
  ownerReferences: ['uid'],
  secrets: ['name'],
  webhooks: ['name'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
  resourceClaims: ['name']
}
// What the server sets, never taken from a client's object.
export const SERVER_SET = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp'
]
const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers'])
export const SEP = '\n'

// Objects of any shape: `any` on purpose.
/** @param {any} v @returns {v is Record<string, any>} */
export const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** @param {string} field @param {string | undefined} itemOf the list whose item holds the field @param {boolean} crd */
function listType(field, itemOf, crd) {
  if (crd) return undefined
  if (field === 'finalizers') return 'set'
  // Service ports by port+protocol, container ports by containerPort+protocol (protocol defaults to TCP).
  if (field === 'ports')
    return itemOf && CONTAINER_LISTS.has(itemOf) ? ['containerPort', 'protocol'] : ['port', 'protocol']
  return LIST_MAP_KEYS[field]
}

/** @param {any} item @param {string[]} keys */
const keyOf = (item, keys) =>
  `k:${JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k] ?? (k === 'protocol' ? 'TCP' : undefined)])))}`

/**
 * The fields of a value as path → JSON of the value (list-map items as their own member, marked '.').
 * @param {any} v @param {string[]} path @param {string} field @param {string | undefined} itemOf @param {boolean} crd
 * @param {Map<string, string>} out
 */
export function walk(v, path, field, itemOf, crd, out) {
  const lt = Array.isArray(v) && v.length ? listType(field, itemOf, crd) : undefined
  if (isMap(v) && Object.keys(v).length) {
    for (const [k, x] of Object.entries(v)) walk(x, [...path, `f:${k}`], k, undefined, crd, out)
  } else if (lt === 'set') {
    for (const x of v) out.set([...path, `v:${JSON.stringify(x)}`].join(SEP), '')
  } else if (Array.isArray(lt) && v.every(isMap)) {
    for (const item of v) {
      const at = [...path, keyOf(item, lt)]
      out.set([...at, '.'].join(SEP), '')
      for (const [k, x] of Object.entries(item)) walk(x, [...at, `f:${k}`], k, field, crd, out)
    }
  } else if (path.length) out.set(path.join(SEP), JSON.stringify(v))
}

/** What a manager can own in obj: status for the status subresource, everything else otherwise. */
export function fieldsOf(
  /** @type {any} */ obj,
  /** @type {string | undefined} */ subresource,
  /** @type {boolean} */ crd
) {
  /** @type {Map<string, string>} */
  const out = new Map()
  if (!obj) return out
  if (subresource === 'status') {
    if (obj.status !== undefined) walk(obj.status, ['f:status'], 'status', undefined, crd, out)
    return out
  }
  const { apiVersion: _a, kind: _k, status: _s, metadata = {}, ...rest } = obj
  const meta = Object.fromEntries(Object.entries(metadata).filter(([k]) => !STRIPPED_META.includes(k)))
  walk({ ...(Object.keys(meta).length ? { metadata: meta } : {}), ...rest }, [], '', undefined, crd, out)
  return out
}

// --- merge and removal ------------------------------------------------------------------------------

/** live.Merge(config): the configuration wins; list-maps merge item by item, sets by value. */
export function merge(
  /** @type {any} */ live,
  /** @type {any} */ cfg,
  field = '',
  /** @type {string | undefined} */ itemOf = undefined,
  crd = false
) {
  if (isMap(cfg)) {
    const out = isMap(live) ? structuredClone(live) : {}
    for (const [k, v] of Object.entries(cfg)) out[k] = merge(out[k], v, k, undefined, crd)
    return out
  }
  const lt = Array.isArray(cfg) ? listType(field, itemOf, crd) : undefined
  if (lt === 'set' && Array.isArray(live)) return [...live, ...cfg.filter((/** @type {any} */ x) => !live.includes(x))]
  if (Array.isArray(lt) && Array.isArray(live) && cfg.every(isMap)) {
    const out = structuredClone(live)
    for (const item of cfg) {
      const i = out.findIndex((/** @type {any} */ x) => isMap(x) && keyOf(x, lt) === keyOf(item, lt))
      const merged = /** @type {Record<string, any>} */ (i >= 0 ? structuredClone(out[i]) : {})
      for (const [k, v] of Object.entries(item)) merged[k] = merge(merged[k], v, k, field, crd)
      if (i >= 0) out[i] = merged
      else out.push(merged)
    }
    return out
  }
  return structuredClone(cfg)
}

/** Removes one member (a field, a list-map item, a set value) from obj in place. */
export function removePath(/** @type {any} */ obj, /** @type {string} */ p) {
  const els = p.split(SEP)
  if (els[els.length - 1] === '.') els.pop()
  let node = obj
  for (let i = 0; i < els.length; i++) {
    const el = els[i]
    const last = i === els.length - 1
    if (el.startsWith('f:')) {
      if (!isMap(node) || !(el.slice(2) in node)) return
      if (last) delete node[el.slice(2)]
      else node = node[el.slice(2)]
    } else if (Array.isArray(node)) {
      const j = el.startsWith('v:')
        ? node.findIndex((x) => JSON.stringify(x) === el.slice(2))
        : node.findIndex((x) => isMap(x) && Object.keys(JSON.parse(el.slice(2))).length && keyOfAny(x, el) === el)
      if (j < 0) return
      if (last) node.splice(j, 1)
      else node = node[j]
    } else return
  }
}
const keyOfAny = (/** @type {any} */ x, /** @type {string} */ el) => keyOf(x, Object.keys(JSON.parse(el.slice(2))))

/** A field path as the API server prints it: .metadata.labels.app, .spec.ports[port=15021,protocol="TCP"].name */
export function printPath(/** @type {string} */ p) {
  return p
    .split(SEP)
    .filter((el) => el !== '.')
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`
      const key = JSON.parse(el.slice(2))
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`
    })
    .join('')
}

// --- FieldsV1 ----------------------------------------------------------------------------------------

/** @param {Set<string>} set */
export function encode(set) {
  /** @type {Record<string, any>} */
  const root = {}
  for (const p of set) {
    let node = root
    for (const el of p.split(SEP)) node = node[el] ??= {}
  }
  return root
}

/** @param {Record<string, any>} node @param {string[]} path @param {Set<string>} out */
export function decode(node, path = [], out = new Set()) {
  const keys = Object.keys(node)
  if (!keys.length && path.length) out.add(path.join(SEP))
  for (const k of keys) decode(node[k], [...path, k], out)
  return out
}
