// In-memory object store: plain Kubernetes JSON keyed by group/kind/namespace/name (the version is a
// view: a CRD served as v1 and v1alpha3 shares one stored object, like etcd's single storage version).
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { parseApiVersion, hasGeneration } from './resources.js'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').ChangeEvent} ChangeEvent */

const LOG_LIMIT = 10000

export function nowTimestamp() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** @param {string} group @param {string} kind @param {string | undefined} namespace @param {string} name */
function keyOf(group, kind, namespace, name) {
  return `${group}|${kind}|${namespace || ''}|${name}`
}

/** @param {KubeObject} obj @param {string} [apiVersion] @returns {KubeObject} */
function withApiVersion(obj, apiVersion) {
  const copy = structuredClone(obj)
  if (apiVersion) copy.apiVersion = apiVersion
  return copy
}

// Everything except metadata and status: what metadata.generation counts changes of.
/** @param {KubeObject} obj */
function specPart(obj) {
  const { metadata: _m, status: _s, ...rest } = obj
  return rest
}

/**
 * JSON with object keys sorted, so equal objects give equal strings.
 * @param {unknown} value
 */
export function stableStringify(value) {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]])
        )
      : v
  )
}

/**
 * Emits 'change' with { type: 'ADDED'|'MODIFIED'|'DELETED', object, oldObject, resourceVersion }.
 * Events raised while listeners run (controllers reacting synchronously) are queued, so every
 * listener sees events in resourceVersion order.
 */
export class Store extends EventEmitter {
  /** @type {Map<string, KubeObject>} */
  #objects = new Map()
  #rv = 1
  /** @type {ChangeEvent[]} */
  #log = [] // recent change events, for watches that resume from a resourceVersion
  #logStart = 1 // the log holds every event after this resourceVersion
  /** @type {ChangeEvent[]} */
  #queue = []
  #emitting = false

  constructor() {
    super()
    this.setMaxListeners(0)
  }

  get resourceVersion() {
    return String(this.#rv)
  }

  /**
   * @param {string} apiVersion @param {string} kind @param {string | undefined} namespace @param {string} name
   * @returns {KubeObject}
   */
  get(apiVersion, kind, namespace, name) {
    const obj = this.#objects.get(keyOf(parseApiVersion(apiVersion).group, kind, namespace, name))
    return obj ? withApiVersion(obj, apiVersion) : undefined
  }

  /** @param {string} apiVersion @param {string} kind @param {string} [namespace] @returns {KubeObject[]} */
  list(apiVersion, kind, namespace) {
    const group = parseApiVersion(apiVersion).group
    const out = []
    for (const obj of this.#objects.values()) {
      if (obj.kind !== kind || parseApiVersion(obj.apiVersion).group !== group) continue
      if (namespace && (obj.metadata.namespace || '') !== namespace) continue
      out.push(withApiVersion(obj, apiVersion))
    }
    return out.sort(byNamespaceAndName)
  }

  /** Every stored object (copies), e.g. to empty a namespace or collect garbage. */
  all() {
    return [...this.#objects.values()].map((o) => structuredClone(o)).sort(byNamespaceAndName)
  }

  /**
   * Create or replace. Sets uid / creationTimestamp (kept on replace), resourceVersion and generation
   * (bumped when anything outside metadata/status changes). A replace that changes nothing is a no-op,
   * as on a real server: same resourceVersion, no watch event.
   */
  /** @param {KubeObject} input @returns {KubeObject} */
  put(input) {
    const obj = structuredClone(input)
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
      throw new Error(`store.put needs apiVersion, kind and metadata.name: ${JSON.stringify(input).slice(0, 200)}`)
    }
    const group = parseApiVersion(obj.apiVersion).group
    const key = keyOf(group, obj.kind, obj.metadata.namespace, obj.metadata.name)
    const old = this.#objects.get(key)
    const meta = obj.metadata
    if (!meta.namespace) delete meta.namespace
    // Empty maps are omitted when a real server serializes metadata (omitempty): {} and absent are the same object.
    for (const k of ['labels', 'annotations']) if (meta[k] && Object.keys(meta[k]).length === 0) delete meta[k]
    if (old) {
      meta.uid = old.metadata.uid
      meta.creationTimestamp = old.metadata.creationTimestamp
      if (hasGeneration(obj.kind)) {
        const changed = stableStringify(specPart(obj)) !== stableStringify(specPart(old))
        meta.generation = (old.metadata.generation || 1) + (changed ? 1 : 0)
      }
      meta.resourceVersion = old.metadata.resourceVersion
      if (stableStringify(obj) === stableStringify(old)) return structuredClone(old)
    } else {
      meta.uid = randomUUID()
      meta.creationTimestamp = nowTimestamp()
      if (hasGeneration(obj.kind)) meta.generation = 1
    }
    meta.resourceVersion = String(++this.#rv)
    this.#objects.set(key, obj)
    this.#emit(old ? 'MODIFIED' : 'ADDED', obj, old)
    return structuredClone(obj)
  }

  /**
   * @param {string} apiVersion @param {string} kind @param {string | undefined} namespace @param {string} name
   * @returns {KubeObject}
   */
  delete(apiVersion, kind, namespace, name) {
    const key = keyOf(parseApiVersion(apiVersion).group, kind, namespace, name)
    const old = this.#objects.get(key)
    if (!old) return undefined
    this.#objects.delete(key)
    // The DELETED event carries the deletion's resourceVersion, as a real watch does.
    const gone = structuredClone(old)
    gone.metadata.resourceVersion = String(++this.#rv)
    this.#emit('DELETED', gone, old)
    return withApiVersion(gone, apiVersion)
  }

  /** Deterministic JSON of every object: compare before/after to prove a run was read-only. */
  snapshot() {
    const entries = [...this.#objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return stableStringify(entries.map(([, o]) => o))
  }

  /** Change events after resourceVersion rv, oldest first; null if the log no longer reaches back that far. */
  /** @param {string} rv */
  eventsSince(rv) {
    const n = Number(rv)
    if (n < this.#logStart) return null
    return this.#log.filter((e) => Number(e.resourceVersion) > n)
  }

  /** @param {ChangeEvent['type']} type @param {KubeObject} object @param {KubeObject} [oldObject] */
  #emit(type, object, oldObject) {
    /** @type {ChangeEvent} */
    const event = {
      type,
      object: structuredClone(object),
      oldObject: oldObject && structuredClone(oldObject),
      resourceVersion: object.metadata.resourceVersion
    }
    this.#log.push(event)
    if (this.#log.length > LOG_LIMIT) this.#logStart = Number(this.#log.shift()?.resourceVersion)
    this.#queue.push(event)
    if (this.#emitting) return
    this.#emitting = true
    try {
      while (this.#queue.length) {
        const next = this.#queue.shift()
        try {
          this.emit('change', next)
        } catch (err) {
          // A failing listener must not stop the others or lose queued events.
          console.error('sim apiserver: change listener failed:', err)
        }
      }
    } finally {
      this.#emitting = false
    }
  }
}

/** @param {KubeObject} a @param {KubeObject} b */
function byNamespaceAndName(a, b) {
  const ka = `${a.metadata.namespace || ''}/${a.metadata.name}`
  const kb = `${b.metadata.namespace || ''}/${b.metadata.name}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}
