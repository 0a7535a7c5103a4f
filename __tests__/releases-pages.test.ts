// The releases API lists 100 releases a page, newest first (GitHub's Link header points at the next page). istio/istio
// has several hundred releases, so an older minor is found only past page one. Each page has an ETag: a lookup
// that sends it back gets 304 Not Modified, without a body, when nothing changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startReleaseServer } from '../test/sim/releases.js'
import { resolveVersion } from '../src/istioctl/releases.js'
import { istioPlatform } from '../src/istioctl/platform.js'
import { fileCache, releasesCacheFile } from '../src/istioctl/releases-cache.js'

// 1.20.0 … 1.31.14: 12 minors × 15 patches = 180 plain releases, so 1.22 and older are on page two.
const VERSIONS = Array.from({ length: 12 }, (_, m) => Array.from({ length: 15 }, (_, p) => `1.${20 + m}.${p}`)).flat()

describe('releases API pagination', () => {
  let server: Awaited<ReturnType<typeof startReleaseServer>>
  beforeAll(async () => {
    server = await startReleaseServer({ versions: VERSIONS })
  })
  afterAll(async () => {
    await server?.close()
  })
  const listings = () => server.requests.filter((r: { path: string }) => r.path.endsWith('/releases'))

  it('follows the Link header to page two for an older minor', async () => {
    const before = listings().length
    await expect(
      resolveVersion({ kind: 'minor', major: 1, minor: 21 }, server.apiUrl, '', istioPlatform('linux', 'x64'))
    ).resolves.toBe('1.21.14')
    const pages = listings().slice(before)
    expect(pages.map((r: { url: string }) => new URL(r.url, 'http://x').searchParams.get('page') ?? '1')).toEqual([
      '1',
      '2'
    ])
  })

  it('stops at page one when the newest minor is there', async () => {
    const before = listings().length
    await expect(resolveVersion({ kind: 'latest' }, server.apiUrl, '', istioPlatform('linux', 'x64'))).resolves.toBe(
      '1.31.14'
    )
    expect(listings().length - before).toBe(1)
  })

  it('names how many releases it read when no release of a minor exists', async () => {
    await expect(
      resolveVersion({ kind: 'minor', major: 1, minor: 19 }, server.apiUrl, '', istioPlatform('linux', 'x64'))
    ).rejects.toThrow(/found no published release of Istio 1\.19 among 180 releases/)
  })
})

describe('conditional requests: the ETag of each page, and a 304 for "unchanged"', () => {
  let server: Awaited<ReturnType<typeof startReleaseServer>>
  let dir: string
  const linux = istioPlatform('linux', 'x64')
  const minor21 = { kind: 'minor', major: 1, minor: 21 } as const
  beforeAll(async () => {
    server = await startReleaseServer({ versions: VERSIONS })
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'releases-cache-'))
  })
  afterAll(async () => {
    await server?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const listings = () => server.requests.filter((r: { path: string }) => r.path.endsWith('/releases'))

  it('a warm lookup sends the ETags back, gets 304s, transfers no body and resolves the same', async () => {
    const cache = fileCache(path.join(dir, 'warm.json'))
    await expect(resolveVersion(minor21, server.apiUrl, 'tok', linux, cache)).resolves.toBe('1.21.14')
    const bytes = server.bodyBytes
    const notModified = server.notModified
    const before = listings().length
    await expect(resolveVersion(minor21, server.apiUrl, 'tok', linux, cache)).resolves.toBe('1.21.14')
    expect(listings().length - before).toBe(2) // both pages asked again, each answered 304
    expect(server.notModified - notModified).toBe(2)
    expect(server.bodyBytes).toBe(bytes)
    // `latest` uses page one's cached versions too.
    await expect(resolveVersion({ kind: 'latest' }, server.apiUrl, 'tok', linux, cache)).resolves.toBe('1.31.14')
    expect(server.bodyBytes).toBe(bytes)
  })

  it('the cache survives in its file, as the next job on the same runner reads it', async () => {
    const file = path.join(dir, 'file.json')
    await resolveVersion({ kind: 'latest' }, server.apiUrl, 'tok', linux, fileCache(file))
    const bytes = server.bodyBytes
    await expect(resolveVersion({ kind: 'latest' }, server.apiUrl, 'tok', linux, fileCache(file))).resolves.toBe(
      '1.31.14'
    )
    expect(server.bodyBytes).toBe(bytes)
    expect(fs.readFileSync(file, 'utf8')).not.toContain('tok')
  })

  it('another token gets another ETag: a full page, and the cache takes the new ETag', async () => {
    const cache = fileCache(path.join(dir, 'token.json'))
    await resolveVersion({ kind: 'latest' }, server.apiUrl, 'tok', linux, cache)
    const key = `istioctl-V-linux-amd64.tar.gz ${server.apiUrl}/repos/istio/istio/releases?per_page=100`
    const first = cache.get(key)!.etag
    const bytes = server.bodyBytes
    await resolveVersion({ kind: 'latest' }, server.apiUrl, 'other', linux, cache)
    expect(server.bodyBytes).toBeGreaterThan(bytes)
    expect(cache.get(key)!.etag).not.toBe(first)
  })

  it('a stale ETag gets a 200 and what the page holds now, not what the cache said', async () => {
    const cache = fileCache(path.join(dir, 'stale.json'))
    const key = `istioctl-V-linux-amd64.tar.gz ${server.apiUrl}/repos/istio/istio/releases?per_page=100`
    cache.set(key, { etag: 'W/"gone"', versions: ['1.99.0'] })
    await expect(resolveVersion({ kind: 'latest' }, server.apiUrl, 'tok', linux, cache)).resolves.toBe('1.31.14')
    expect(cache.get(key)!.versions).toContain('1.31.14')
  })

  it('a cache file that is not JSON, or cannot be written, is an empty cache and never an error', () => {
    const bad = path.join(dir, 'bad.json')
    fs.writeFileSync(bad, '{not json')
    expect(fileCache(bad).get('k')).toBeUndefined()
    const blocked = path.join(dir, 'a-file')
    fs.writeFileSync(blocked, '')
    const unwritable = fileCache(path.join(blocked, 'sub', 'c.json'))
    expect(() => unwritable.set('k', { etag: 'W/"x"', versions: [] })).not.toThrow()
    expect(unwritable.get('k')).toEqual({ etag: 'W/"x"', versions: [] })
  })

  it('keeps at most 50 pages, dropping the oldest', () => {
    const file = path.join(dir, 'bounded.json')
    const cache = fileCache(file)
    for (let i = 0; i < 60; i++) cache.set(`k${i}`, { etag: `W/"${i}"`, versions: [] })
    const kept = Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')))
    expect(kept).toHaveLength(50)
    expect(kept[0]).toBe('k10')
  })

  it('lives beside the tool cache, or nowhere without one', () => {
    expect(releasesCacheFile({ RUNNER_TOOL_CACHE: '/opt/hostedtoolcache' })).toBe(
      '/opt/hostedtoolcache/istio-multicluster/releases-api.json'
    )
    expect(releasesCacheFile({})).toBeUndefined()
  })
})
