// The topologies of `npm run bench`: the roles in the `clusters` input, and the slow cluster's derived waits.
import { describe, expect, it } from '@jest/globals'
import { parseConfig } from '../../src/config/index.js'
import { source, tokenKubeconfig } from '../../__fixtures__/kubeconfigs.js'
import { slowPathWaits, topologyOverrides } from './topology.js'

/** The `clusters` input as test/sim/index.js `clustersInput(overrides)` writes it: cluster i on network<i+1>. */
const clustersInput = (names: string[], overrides: Record<string, Record<string, string | undefined>>) =>
  names
    .map((name, i) => {
      const item = {
        name,
        network: `network${i + 1}`,
        'api-server': `https://${name}.example:6443`,
        ...overrides[name]
      }
      return `- ${JSON.stringify(item)}`
    })
    .join('\n')

describe('topologyOverrides', () => {
  const names = ['c1', 'c2', 'c3', 'slow']

  it('multi-primary: nothing to add (every cluster a primary on its own network)', () => {
    expect(topologyOverrides(names, 'multi-primary')).toEqual({})
  })

  it('primary-remote: the first cluster the primary, every other one its remote', () => {
    expect(topologyOverrides(names, 'primary-remote')).toEqual({
      c2: { role: 'remote', primary: 'c1' },
      c3: { role: 'remote', primary: 'c1' },
      slow: { role: 'remote', primary: 'c1' }
    })
  })

  it('the action reads it as primary-remote on different networks: c1 primary, the others remotes of c1', () => {
    const c = parseConfig(
      source({
        clusters: clustersInput(names, topologyOverrides(names, 'primary-remote')),
        kubeconfig: names.map((n) => tokenKubeconfig(n)).join('---\n')
      })
    )
    expect(c.clusters.map((x) => [x.name, x.role, x.primary, x.network])).toEqual([
      ['c1', 'primary', undefined, 'network1'],
      ['c2', 'remote', 'c1', 'network2'],
      ['c3', 'remote', 'c1', 'network3'],
      ['slow', 'remote', 'c1', 'network4']
    ])
  })

  it('refuses an unknown topology', () => {
    expect(() => topologyOverrides(names, 'same-network' as any)).toThrow(/unknown topology same-network/)
  })
})

describe('slowPathWaits', () => {
  const c = (controlPlaneMs: number, gatewayMs: number, lbMs: number) => ({ controlPlaneMs, gatewayMs, lbMs })
  const profiles = [c(1000, 800, 1800), c(900, 700, 1600), c(1500, 1200, 2700)]

  it('multi-primary: the slow cluster alone, in order and with its load balancer during the installs', () => {
    expect(slowPathWaits(profiles, 'multi-primary')).toEqual({ serialMs: 5400, overlappedMs: 2700 })
  })

  it("primary-remote: the primary's address first, then the slow remote's installs and address", () => {
    // serial 1000 + 800 + 1800 + 1500 + 1200 + 2700; overlapped max(1800, 1800) + 2700, its LB long provisioned
    expect(slowPathWaits(profiles, 'primary-remote')).toEqual({ serialMs: 9000, overlappedMs: 4500 })
    // A remote load balancer slower than everything before it is the path.
    expect(slowPathWaits([c(1000, 800, 1800), c(1500, 1200, 9000)], 'primary-remote').overlappedMs).toBe(9000)
  })
})
