// Field ownership (metadata.managedFields) and server-side apply, as the API server's field manager does them:
// k8s.io/apimachinery/pkg/util/managedfields/internal (structuredmerge.go, stripmeta.go, skipnonapplied.go,
// conflict.go) on sigs.k8s.io/structured-merge-diff merge/update.go (Updater.Apply, Updater.Update, prune):
// - Apply: the live object merged with the applied configuration (maps by key, list-maps by their keys, other lists
//   replaced); the applier then owns exactly the fields it applied. A field it applied last time and not this time is
//   removed from the object unless another manager owns it (prune + addBackOwnedItems).
// - A change to a field another manager owns is a conflict: 409 without force; with force the applier takes it over.
// - Update (POST, PUT, other PATCHes): the writer owns what it added or changed; removed fields leave every manager.
//   A create is always tracked; an update of an object that has no managedFields is not (skipnonapplied.go).
// - One entry per manager, operation and subresource; a write that changes neither object nor ownership is a no-op.
import { ApiError } from './status.js'
import { SERVER_SET, SEP, decode, encode, fieldsOf, merge, printPath, removePath } from './fieldset.js'
import { nowTimestamp } from './store.js'

/** @typedef {{ manager: string, operation: 'Apply' | 'Update', apiVersion: string, time?: string, subresource?: string, set: Set<string> }} Entry */

/** @param {any} obj @returns {Entry[]} */
const entriesOf = (obj) =>
  (obj?.metadata?.managedFields || []).map((/** @type {any} */ e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    time: e.time,
    ...(e.subresource ? { subresource: e.subresource } : {}),
    set: decode(e.fieldsV1 || {})
  }))

/** @param {Entry[]} entries @param {Entry[]} before keeps an unchanged entry as it was (its time too) */
function toManagedFields(entries, before) {
  const same = (/** @type {Entry} */ a, /** @type {Entry} */ b) =>
    a.manager === b.manager && a.operation === b.operation && a.subresource === b.subresource
  return entries
    .filter((e) => e.set.size)
    .map((e) => {
      const old = before.find((b) => same(b, e))
      const unchanged =
        old && old.apiVersion === e.apiVersion && [...e.set].every((p) => old.set.has(p)) && old.set.size === e.set.size
      return {
        manager: e.manager,
        operation: e.operation,
        apiVersion: e.apiVersion,
        time: unchanged ? old.time : nowTimestamp(),
        fieldsType: 'FieldsV1',
        fieldsV1: encode(e.set),
        ...(e.subresource ? { subresource: e.subresource } : {})
      }
    })
}

// --- the two operations -------------------------------------------------------------------------

/**
 * @typedef {{ manager: string, apiVersion: string, subresource?: string, crd: boolean }} Writer
 */

/** What the change from old to next adds or modifies, removes, and which of it other managers own. */
/**
 * @param {Entry[]} entries @param {Entry | undefined} self @param {Map<string, string>} oldF @param {Map<string, string>} newF
 */
function touched(entries, self, oldF, newF) {
  /** @type {Set<string>} */
  const changed = new Set()
  for (const [p, v] of newF) if (oldF.get(p) !== v) changed.add(p)
  const removed = [...oldF.keys()].filter((p) => !newF.has(p))
  return {
    changed,
    removed,
    conflicts: entries
      .filter((e) => e !== self)
      .map((e) => ({ e, paths: [...e.set].filter((p) => changed.has(p)) }))
      .filter((c) => c.paths.length)
  }
}

/**
 * Server-side apply of `config` to `live` (undefined: create) by `w.manager`: the object to store, with its
 * managedFields. Throws the API server's 409 on a conflict without force.
 * @param {any} live @param {any} config @param {Writer & { force: boolean }} w
 */
export function serverSideApply(live, config, w) {
  const sub = w.subresource
  let entries = entriesOf(live)
  // An object nobody applied to before: what it holds belongs to "before-first-apply" (fieldmanager.go).
  if (live && !entries.length)
    entries = [
      {
        manager: 'before-first-apply',
        operation: 'Update',
        apiVersion: live.apiVersion,
        set: new Set(fieldsOf(live, sub, w.crd).keys())
      }
    ]
  const before = entriesOf(live)
  let self = entries.find((e) => e.manager === w.manager && e.operation === 'Apply' && e.subresource === sub)
  const lastSet = self?.set ?? new Set()
  const applied = new Set(fieldsOf(config, sub, w.crd).keys())
  const base = live ? structuredClone(live) : {}
  const { status: cfgStatus, ...cfgRest } = config
  const meta = Object.fromEntries(Object.entries(cfgRest.metadata || {}).filter(([k]) => !SERVER_SET.includes(k)))
  // The main resource resets status; the status subresource takes nothing else.
  const next =
    sub === 'status'
      ? merge(base, { status: cfgStatus })
      : merge(base, { ...cfgRest, metadata: meta }, '', undefined, w.crd)
  // prune: what it applied last time and not now, unless another manager owns it (or something under it).
  const others = entries.filter((e) => e !== self).flatMap((e) => [...e.set])
  const owned = (/** @type {string} */ p) =>
    others.some((o) => (p.endsWith(`${SEP}.`) ? o.startsWith(p.slice(0, -1)) : o === p || o.startsWith(p + SEP)))
  const gone = [...lastSet].filter((p) => !applied.has(p) && !owned(p))
  // Whole items first (their keys still find them), then fields, deepest first.
  const isItem = (/** @type {string} */ p) => p.endsWith(`${SEP}.`)
  for (const p of gone.filter(isItem).sort((a, b) => a.length - b.length)) removePath(next, p)
  for (const p of gone.filter((p) => !isItem(p)).sort((a, b) => b.length - a.length)) removePath(next, p)
  const { removed, conflicts } = touched(entries, self, fieldsOf(live, sub, w.crd), fieldsOf(next, sub, w.crd))
  if (conflicts.length && !w.force) throw conflictError(conflicts)
  for (const { e, paths } of conflicts) for (const p of paths) e.set.delete(p)
  for (const e of entries) for (const p of removed) e.set.delete(p)
  if (!self)
    entries.push(
      (self = {
        manager: w.manager,
        operation: 'Apply',
        apiVersion: w.apiVersion,
        ...(sub ? { subresource: sub } : {}),
        set: new Set()
      })
    )
  self.set = applied
  self.apiVersion = w.apiVersion
  next.metadata = { ...next.metadata, managedFields: toManagedFields(entries, before) }
  return next
}

/**
 * Ownership after an update (create, PUT, a non-apply PATCH) from old to next by `w.manager`: next's managedFields.
 * @param {any} old @param {any} next @param {Writer} w
 */
export function trackUpdate(old, next, w) {
  const entries = entriesOf(old)
  if (old && !entries.length) return undefined
  const before = entriesOf(old)
  const sub = w.subresource
  let self = entries.find((e) => e.manager === w.manager && e.operation === 'Update' && e.subresource === sub)
  const { changed, removed, conflicts } = touched(entries, self, fieldsOf(old, sub, w.crd), fieldsOf(next, sub, w.crd))
  for (const { e, paths } of conflicts) for (const p of paths) e.set.delete(p)
  for (const e of entries) for (const p of removed) e.set.delete(p)
  if (!self)
    entries.push(
      (self = {
        manager: w.manager,
        operation: 'Update',
        apiVersion: w.apiVersion,
        ...(sub ? { subresource: sub } : {}),
        set: new Set()
      })
    )
  for (const p of changed) self.set.add(p)
  self.apiVersion = w.apiVersion
  return toManagedFields(entries, before)
}

/** The manager of a write without ?fieldManager=: the User-Agent up to its first "/" (prefixFromUserAgent). */
export const managerFromUserAgent = (/** @type {string | undefined} */ ua) =>
  (ua || 'unknown').split('/')[0].slice(0, 128)

/** conflict.go NewConflictError / getConflictMessage / printManager. */
function conflictError(/** @type {{ e: Entry, paths: string[] }[]} */ conflicts) {
  const who = (/** @type {Entry} */ e) =>
    `"${e.manager}"${e.subresource ? ` with subresource "${e.subresource}"` : ''}${e.operation === 'Update' ? ` using ${e.apiVersion}` : ''}`
  const all = conflicts.flatMap(({ e, paths }) => paths.map((p) => ({ e, path: printPath(p) })))
  const message =
    all.length === 1
      ? `Apply failed with 1 conflict: conflict with ${who(all[0].e)}: ${all[0].path}`
      : `Apply failed with ${all.length} conflicts: ${conflicts.map(({ e, paths }) => [`conflicts with ${who(e)}:`, ...paths.map((p) => `- ${printPath(p)}`)].join('\n')).join('\n')}`
  return new ApiError(409, 'Conflict', message, {
    causes: all.map(({ e, path }) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${who(e)}`,
      field: path
    }))
  })
}
