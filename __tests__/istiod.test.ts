import { describe, expect, it } from '@jest/globals'
import { istiodsNeedingRestart, remoteSecretUpdateBug } from '../src/kube/istiod.js'
import { parseSemver } from '../src/istioctl/version.js'

// Expected values written from the release notes and tags, not from the code: fixes for #60612 are in 1.30.3, for
// #61043 and #60920 on release-1.30 after 1.30.3 (1.30.4) and in 1.31.0; release-1.28/1.29 have none.
describe('istiods that keep a stale view after a remote secret update', () => {
  it.each([
    ['1.28.10', /#60612/],
    ['1.29.6', /#60612.*no fix on 1\.28 or 1\.29/],
    ['1.30.0', /#60612 and #61043/],
    ['1.30.2', /#60612 and #61043/],
    ['1.30.3', /#61043 and #60920/]
  ])('%s is affected', (v, issue) => {
    expect(remoteSecretUpdateBug(parseSemver(v)!)).toMatch(issue)
  })

  it.each(['1.30.4', '1.30.10', '1.31.0', '1.31.1', '1.32.0', '2.0.0'])('%s is not', (v) => {
    expect(remoteSecretUpdateBug(parseSemver(v)!)).toBeUndefined()
  })

  it('picks the affected deployments of a cluster with two revisions, and ignores unlabelled ones', () => {
    expect(
      istiodsNeedingRestart([
        { name: 'istiod', revision: 'default', version: '1.30.3' },
        { name: 'istiod-1-31-1', revision: '1-31-1', version: '1.31.1' },
        { name: 'istiod-custom', revision: 'x' }
      ])
    ).toEqual([{ name: 'istiod', reason: expect.stringMatching(/^1\.30\.3: istio\/istio#61043/) }])
  })
})
