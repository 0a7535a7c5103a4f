// The releases API lists 100 releases a page, newest first (GitHub's Link header points at the next page). istio/istio
// has several hundred releases, so an older minor is found only past page one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startReleaseServer } from '../test/sim/releases.js'
import { resolveVersion } from '../src/istioctl/releases.js'
import { istioPlatform } from '../src/istioctl/platform.js'

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
