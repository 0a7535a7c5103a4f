// What a releases API page resolved to, with its ETag, so the next lookup can ask "changed?" and take a 304 (no body)
// for "no". GitHub: "Most endpoints return an etag header … You can use the values of these headers to make
// conditional GET requests … If the data has not changed, you will receive a 304 Not Modified response", and an
// authorized 304 does not count against the primary rate limit (docs.github.com/en/rest/using-the-rest-api/
// best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate). The ETag differs per token
// (github/docs#34689), so a run with a new token gets a 200 and stores the new one.
import * as fs from 'node:fs'
import * as path from 'node:path'

/** One page as the lookup used it: the versions it kept (already filtered by platform) and the next page's URL. */
export interface CachedPage {
  etag: string
  versions: string[]
  next?: string
}

export interface PageCache {
  get(key: string): CachedPage | undefined
  set(key: string, page: CachedPage): void
}

/** Bounds what one file holds: a lookup reads at most 10 pages per platform. */
const MAX_ENTRIES = 50

/**
 * The cache beside the tool cache (RUNNER_TOOL_CACHE, where istioctl itself is kept, so it lives exactly as long),
 * in a folder of its own so @actions/tool-cache never takes it for a tool version. No tool cache, no cache.
 */
export function releasesCacheFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = env.RUNNER_TOOL_CACHE?.trim()
  return root ? path.join(root, 'istio-multicluster', 'releases-api.json') : undefined
}

/** A cache kept in one JSON file; a missing or unreadable file is an empty cache, a failed write loses nothing. */
export function fileCache(file: string): PageCache {
  let entries: Record<string, CachedPage> = {}
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown
    if (parsed && typeof parsed === 'object') entries = parsed as Record<string, CachedPage>
  } catch {
    // no cache yet, or one that is not JSON: start empty
  }
  return {
    get(key) {
      const e = entries[key]
      return e && typeof e.etag === 'string' && e.etag && Array.isArray(e.versions) ? e : undefined
    },
    set(key, page) {
      delete entries[key]
      entries[key] = page
      const keys = Object.keys(entries)
      for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete entries[k]
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true })
        // Write then rename: a job beside this one on a self-hosted runner never reads half a file.
        const tmp = `${file}.${process.pid}.tmp`
        fs.writeFileSync(tmp, JSON.stringify(entries))
        fs.renameSync(tmp, file)
      } catch {
        // a read-only tool cache only costs the next run a full listing
      }
    }
  }
}
