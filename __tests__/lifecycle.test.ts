// Upgrade checks and what mode: plan says, from hand-made cluster states (the shapes parseClusterState returns).
import { describe, expect, it } from '@jest/globals'
import { parseConfig } from '../src/config/index.js'
import { checkUpgrades, staleRemoteSecrets } from '../src/preflight.js'
import { describePlan } from '../src/steps/describe.js'
import { buildInstallPlan } from '../src/steps/install-plan.js'
import { ClusterState } from '../src/state.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

const config = (extra: Record<string, string> = {}) =>
  parseConfig(
    source({
      clusters: '- {name: c1, network: n1}\n- {name: c2, network: n2}',
      kubeconfig: tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2'),
      ...extra
    })
  )
const empty = (): ClusterState => ({
  namespaceExists: false,
  istiods: [],
  remoteSecrets: [],
  retiredImages: [],
  versions: {}
})
const running = (version: string, revision = 'default', more: Partial<ClusterState> = {}): ClusterState => ({
  ...empty(),
  namespaceExists: true,
  network: 'n1',
  istiods: [{ name: revision === 'default' ? 'istiod' : `istiod-${revision}`, revision, version }],
  ...more
})
const v = (major: number, minor: number, patch: number) => ({ major, minor, patch })

describe('checkUpgrades', () => {
  it('calls a lower version of the same revision a downgrade', () => {
    const notes = checkUpgrades(config(), v(1, 30, 2), new Map([['c1', running('1.30.3')]]))
    expect(notes).toEqual([{ cluster: 'c1', from: '1.30.3 (default)', to: '1.30.2 (default)', kind: 'downgrade' }])
  })

  it('allows a canary across two minors and refuses three, naming the version to install first', () => {
    const states = new Map([['c1', running('1.28.9')]])
    expect(checkUpgrades(config({ revision: 'canary' }), v(1, 30, 3), states)).toEqual([
      { cluster: 'c1', from: '1.28.9 (default)', to: '1.30.3 (canary)', kind: 'canary' }
    ])
    expect(() => checkUpgrades(config({ revision: 'canary' }), v(1, 31, 1), states)).toThrow(
      'c1 runs Istio 1.28.9 (revision default); going to 1.31.1 skips 2 minor version(s). Istio supports canary upgrades across at most two minor versions at a time: install 1.30 first, or set allow-skip-minor: true to accept the risk.'
    )
    expect(checkUpgrades(config({ revision: 'canary', 'allow-skip-minor': 'true' }), v(1, 31, 1), states)).toHaveLength(
      1
    )
  })

  it('says nothing for the same version and revision', () => {
    expect(checkUpgrades(config(), v(1, 30, 3), new Map([['c1', running('1.30.3')]]))).toEqual([])
  })
})

describe('describePlan', () => {
  const plan = (states: Map<string, ClusterState>, extra: Record<string, string> = {}) => {
    const cfg = config(extra)
    const version = v(1, 30, 3)
    return describePlan(
      cfg,
      '1.30.3',
      buildInstallPlan(cfg, version, staleRemoteSecrets(cfg, states)),
      states,
      checkUpgrades(cfg, version, states)
    )
  }
  const does = (p: ReturnType<typeof plan>, cluster: string, step: string) =>
    p.find((c) => c.cluster === cluster)!.actions.find((a) => a.step === step)?.does

  it('relabels a namespace on another network, and says unchanged for the right one', () => {
    const p = plan(
      new Map([
        ['c1', running('1.30.3', 'default', { network: 'old-net' })],
        ['c2', { ...empty(), namespaceExists: true, network: 'n2' }]
      ])
    )
    expect(does(p, 'c1', 'namespace')).toBe('relabel network old-net → n1')
    expect(does(p, 'c2', 'namespace')).toBe('unchanged')
  })

  it('names each value that changes when istiod was installed with other values', () => {
    const c1 = running('1.30.3', 'default', { values: { meshID: 'other', clusterName: 'c1', network: 'n1' } })
    const p = plan(
      new Map([
        ['c1', c1],
        ['c2', empty()]
      ])
    )
    expect(does(p, 'c1', 'control-plane')).toBe(
      're-apply Istio 1.30.3: values change (meshID other → mesh1, clusterName c1 → c1, network n1 → n1)'
    )
    expect(does(p, 'c2', 'control-plane')).toBe('install Istio 1.30.3')
  })

  it('lists remote secrets of clusters no longer listed; with prune: true it deletes them', () => {
    const c1 = running('1.30.3', 'default', {
      remoteSecrets: [
        { name: 'istio-remote-secret-gone', cluster: 'gone' },
        { name: 'istio-remote-secret-c2', cluster: 'c2' }
      ]
    })
    const states = new Map([
      ['c1', c1],
      ['c2', empty()]
    ])
    expect(does(plan(states), 'c1', 'stale-remote-secrets')).toBe(
      'found istio-remote-secret-gone (clusters no longer listed); prune: true would delete them'
    )
    expect(does(plan(states), 'c1', 'remote-secrets-in')).toBe('refresh remote secrets of c2')
    const pruned = plan(states, { prune: 'true' })
    expect(does(pruned, 'c1', 'prune-remote-secrets')).toBe('delete stale remote secrets of gone')
    expect(does(pruned, 'c1', 'stale-remote-secrets')).toBeUndefined()
    expect(does(pruned, 'c2', 'remote-secrets-in')).toBe('add remote secrets of c1')
  })
})
