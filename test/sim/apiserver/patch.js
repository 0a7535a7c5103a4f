// The three PATCH bodies a Kubernetes API server accepts, applied to plain JSON objects.

export class PatchError extends Error {}

// Patches and the objects they apply to are JSON of any shape: `any` on purpose.
/** @param {any} v @returns {v is Record<string, any>} */
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
/** @param {any} v @returns {any} */
const clone = (v) => (v === undefined ? undefined : structuredClone(v))

/**
 * application/merge-patch+json (RFC 7386): maps merge, null deletes, everything else replaces.
 * @param {any} target @param {any} patch @returns {any}
 */
export function mergePatch(target, patch) {
  if (!isMap(patch)) return clone(patch)
  const out = isMap(target) ? clone(target) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

// --- strategic merge patch ----------------------------------------------------------------------
// Merge keys of the built-in types' lists (their Go struct tags patchMergeKey); any other list is replaced.
/** @type {Record<string, string>} */
const MERGE_KEYS = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  secrets: 'name',
  webhooks: 'name',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name'
}
// Lists of scalars with patchStrategy=merge (union instead of replace).
const MERGED_SCALAR_LISTS = new Set(['finalizers'])

/** @param {string} field @param {string[]} path @returns {string | undefined} */
function mergeKeyFor(field, path) {
  // Container ports are keyed by containerPort, Service ports by port.
  if (field === 'ports') return path.some((p) => /[cC]ontainers$/.test(p)) ? 'containerPort' : 'port'
  return MERGE_KEYS[field]
}

/**
 * application/strategic-merge-patch+json, as kubectl apply and kubectl patch send it for built-in kinds:
 * maps merge, lists of named items merge by key, and the directives $patch (replace/delete),
 * $retainKeys, $setElementOrder/<list> and $deleteFromPrimitiveList/<list> are honoured.
 * @param {any} target @param {any} patch @param {string[]} [path] @returns {any}
 */
export function strategicMergePatch(target, patch, path = []) {
  if (!isMap(patch)) return clone(patch)
  if (patch.$patch === 'replace') return stripDirectives(patch)
  if (patch.$patch === 'delete') return undefined
  const out = isMap(target) ? clone(target) : {}
  /** @type {Record<string, any[]>} */
  const orders = {}
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue
    if (k.startsWith('$setElementOrder/')) {
      orders[k.slice('$setElementOrder/'.length)] = v
      continue
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      if (Array.isArray(out[field])) out[field] = out[field].filter((/** @type {any} */ x) => !v.includes(x))
      continue
    }
    if (v === null) {
      delete out[k]
    } else if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, k, path.concat(k))
    } else if (isMap(v)) {
      const merged = strategicMergePatch(out[k], v, path.concat(k))
      if (merged === undefined) delete out[k]
      else out[k] = merged
    } else {
      out[k] = v
    }
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k]
  }
  for (const [field, order] of Object.entries(orders)) {
    if (Array.isArray(out[field])) out[field] = applyOrder(out[field], order, mergeKeyFor(field, path))
  }
  return out
}

/** @param {any} current @param {any[]} patchList @param {string} field @param {string[]} path @returns {any[]} */
function mergeList(current, patchList, field, path) {
  const key = mergeKeyFor(field, path)
  if (patchList.some((x) => isMap(x) && x.$patch === 'replace')) {
    return patchList.filter((x) => !(isMap(x) && x.$patch === 'replace')).map(stripDirectives)
  }
  if (MERGED_SCALAR_LISTS.has(field)) {
    const out = Array.isArray(current) ? [...current] : []
    for (const x of patchList) if (!out.includes(x)) out.push(x)
    return out
  }
  if (!key || !Array.isArray(current)) {
    return patchList.filter((x) => !(isMap(x) && x.$patch === 'delete')).map(stripDirectives)
  }
  const out = clone(current)
  for (const item of patchList) {
    if (!isMap(item) || !(key in item)) {
      out.push(clone(item))
      continue
    }
    const i = out.findIndex((/** @type {any} */ x) => isMap(x) && x[key] === item[key])
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1)
    } else if (i >= 0) {
      out[i] = strategicMergePatch(out[i], item, path)
    } else {
      out.push(strategicMergePatch({}, item, path))
    }
  }
  return out
}

// Items named in the order hint come first, in that order; items only the server knows keep theirs after.
/** @param {any[]} list @param {any[]} order @param {string | undefined} key */
function applyOrder(list, order, key) {
  /** @param {any} x */
  const id = (x) => (key && isMap(x) ? x[key] : isMap(x) ? JSON.stringify(x) : x)
  const wanted = order.map((o) => (key && isMap(o) ? o[key] : o))
  /** @param {any} x */
  const rank = (x) => {
    const i = wanted.indexOf(id(x))
    return i < 0 ? wanted.length : i
  }
  return list
    .map((x, i) => /** @type {[any, number]} */ ([x, i]))
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([x]) => x)
}

/** @param {any} v @returns {any} */
function stripDirectives(v) {
  if (Array.isArray(v)) return v.map(stripDirectives)
  if (!isMap(v)) return v
  /** @type {Record<string, any>} */
  const out = {}
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x)
  return out
}

// --- JSON patch --------------------------------------------------------------------------------

/** @param {string} pointer */
function parsePointer(pointer) {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`)
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** @param {any} doc @param {string[]} parts @param {string} op */
function resolveParent(doc, parts, op) {
  let cur = doc
  for (const p of parts.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : cur?.[p]
    if (cur === undefined || cur === null)
      throw new PatchError(`${op} operation does not apply: doc is missing path: /${parts.join('/')}`)
  }
  return cur
}

/** @param {any} doc @param {string[]} parts */
function getAt(doc, parts) {
  let cur = doc
  for (const p of parts) {
    if (cur === undefined || cur === null) return undefined
    cur = Array.isArray(cur) ? cur[Number(p)] : cur[p]
  }
  return cur
}

/**
 * application/json-patch+json (RFC 6902).
 * @param {any} target @param {any} ops @returns {any}
 */
export function jsonPatch(target, ops) {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations')
  let doc = clone(target)
  for (const op of ops) {
    const parts = parsePointer(op.path ?? '')
    const value = clone(op.value)
    switch (op.op) {
      case 'test':
        if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(op.value))
          throw new PatchError(`testing value /${parts.join('/')} failed`)
        break
      case 'remove':
      case 'replace':
      case 'add': {
        if (parts.length === 0) {
          doc = op.op === 'remove' ? undefined : value
          break
        }
        const parent = resolveParent(doc, parts, op.op)
        const last = parts[parts.length - 1]
        if (Array.isArray(parent)) {
          const i = last === '-' ? parent.length : Number(last)
          if (op.op === 'add') parent.splice(i, 0, value)
          else if (i >= parent.length)
            throw new PatchError(`${op.op} operation does not apply: index ${i} out of range`)
          else if (op.op === 'remove') parent.splice(i, 1)
          else parent[i] = value
        } else {
          if (op.op !== 'add' && !(last in parent))
            throw new PatchError(`${op.op} operation does not apply: doc is missing key: /${parts.join('/')}`)
          if (op.op === 'remove') delete parent[last]
          else parent[last] = value
        }
        break
      }
      case 'move':
      case 'copy': {
        const from = parsePointer(op.from ?? '')
        const moved = clone(getAt(doc, from))
        if (moved === undefined)
          throw new PatchError(`${op.op} operation does not apply: doc is missing from path: ${op.from}`)
        if (op.op === 'move') doc = jsonPatch(doc, [{ op: 'remove', path: op.from }])
        doc = jsonPatch(doc, [{ op: 'add', path: op.path, value: moved }])
        break
      }
      default:
        throw new PatchError(`unexpected kind of operation: ${JSON.stringify(op.op)}`)
    }
  }
  return doc
}
