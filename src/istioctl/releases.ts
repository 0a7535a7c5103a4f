import { getBounded, httpClient, readBody, stallTimeoutMs } from './http.js'
import { Platform, archiveName, istioPlatform } from './platform.js'
import { CachedPage, PageCache } from './releases-cache.js'
import { VersionSpec, selectVersion } from './version.js'

/** How many pages of 100 releases to read at most: istio/istio has fewer than 1000 releases. */
const MAX_PAGES = 10

export class ReleaseLookupError extends Error {}

/**
 * Plain releases (no drafts, no prereleases) from the GitHub API, newest pages first, until `enough` says stop. With
 * `platform`, only releases whose assets hold that platform's istioctl archive: a release tag exists for a while
 * before its assets are uploaded, and such a release cannot be installed. With `cache`, each page is asked for with
 * the ETag it had last time, and a 304 (no body) means the versions it held then.
 */
export async function listReleases(
  apiUrl: string,
  token: string,
  enough: (versions: string[]) => boolean = () => false,
  platform?: Platform,
  cache?: PageCache
): Promise<string[]> {
  // A stalled API fails after the bound (http.ts); http-client retries a 502, 503 or 504 twice.
  const bound = {
    ms: stallTimeoutMs(),
    fix: 'or pin an exact "istio-version" like 1.30.3, which needs no API call'
  }
  const http = httpClient(bound, 2)
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28'
  }
  if (token) headers.authorization = `Bearer ${token}`
  const versions: string[] = []
  let url: string | undefined = `${apiUrl.replace(/\/+$/, '')}/repos/istio/istio/releases?per_page=100`
  for (let page = 1; url && page <= MAX_PAGES; page++) {
    // What a page keeps depends on the platform filter: both make the key.
    const key: string = `${platform ? archiveName('V', platform) : '*'} ${url}`
    const cached: CachedPage | undefined = cache?.get(key)
    const res = await getBounded(http, url, cached ? { ...headers, 'if-none-match': cached.etag } : headers, bound)
    const body = (await readBody(res, url, bound)).toString('utf8')
    const status = res.message.statusCode ?? 0
    if (status === 304 && cached) {
      versions.push(...cached.versions)
      if (enough(versions)) break
      url = cached.next
      continue
    }
    if (
      (status === 403 || status === 429) &&
      (res.message.headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(body))
    )
      throw new ReleaseLookupError(
        `the GitHub API rate limit was exceeded while listing Istio releases${token ? '' : ' (no token was sent)'}: pass "github-token" (the default, \${{ github.token }}, raises the limit), or pin an exact "istio-version" like 1.30.3, which needs no API call`
      )
    if (status !== 200) throw new ReleaseLookupError(`listing Istio releases at ${url} answered HTTP ${status}`)
    const kept: string[] = []
    const releases = JSON.parse(body) as {
      tag_name: string
      draft: boolean
      prerelease: boolean
      assets?: { name: string }[]
    }[]
    for (const r of releases) {
      if (r.draft || r.prerelease) continue
      const version = r.tag_name.replace(/^v/, '')
      if (platform && Array.isArray(r.assets) && !r.assets.some((a) => a.name === archiveName(version, platform)))
        continue
      kept.push(version)
    }
    versions.push(...kept)
    const etag = res.message.headers.etag
    const next = nextLink(res.message.headers.link)
    if (cache && typeof etag === 'string' && etag) cache.set(key, { etag, versions: kept, ...(next ? { next } : {}) })
    if (enough(versions)) break
    url = next
  }
  return versions
}

/** Resolves `latest` / `X.Y` to the newest plain release whose istioctl is published. Exact versions need no lookup. */
export async function resolveVersion(
  spec: VersionSpec,
  apiUrl: string,
  token: string,
  platform?: Platform,
  cache?: PageCache
): Promise<string> {
  if (spec.kind === 'exact') return spec.version
  // Releases come newest first; once a page holds a fitting release, later pages hold only older ones.
  const versions = await listReleases(
    apiUrl,
    token,
    (v) => selectVersion(spec, v) !== undefined,
    platform ?? istioPlatform(),
    cache
  )
  const chosen = selectVersion(spec, versions)
  if (!chosen) {
    const what = spec.kind === 'latest' ? 'release of Istio' : `release of Istio ${spec.major}.${spec.minor}`
    throw new ReleaseLookupError(`found no published ${what} among ${versions.length} releases at ${apiUrl}`)
  }
  return chosen
}

function nextLink(link: string | string[] | undefined): string | undefined {
  const text = Array.isArray(link) ? link.join(',') : link
  return text
    ?.split(',')
    .map((p) => /<([^>]+)>\s*;\s*rel="next"/.exec(p)?.[1])
    .find(Boolean)
}
