/** Deep merge as istioctl merges `-f` files: maps merge key by key, anything else (lists too) is replaced by the overlay. */
export function deepMerge<T>(base: T, overlay: unknown): T {
  if (!isPlainMap(base) || !isPlainMap(overlay)) return (overlay === undefined ? base : copy(overlay)) as T
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(overlay)) out[k] = k in out ? deepMerge(out[k], v) : copy(v)
  return out as T
}

// JSON copy rather than structuredClone: values come from YAML/JSON, and the copy stays in the caller's realm.
function copy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T)
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
