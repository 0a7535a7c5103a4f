// istio-version/<cluster>: which Istio each cluster runs, against the version requested, and what install would do
// (the same upgrade rules install applies: src/preflight.ts checkUpgrades).
import { Config } from '../config/index.js'
import { parseSemver } from '../istioctl/version.js'
import { checkUpgrades } from '../preflight.js'
import { ClusterState } from '../state.js'
import { perCluster } from './provider.js'
import { Check } from './types.js'

export const VERSION_CHECK = 'istio-version'

export function versionChecks(config: Config, version: string, states: Map<string, ClusterState>): Check[] {
  const target = parseSemver(version)!
  return perCluster({ config, states }, VERSION_CHECK, (c, s) => {
    const running = s.istiods.map((i) => `${i.version ?? 'unknown'} (revision ${i.revision})`).join(', ')
    if (!s.istiods.length) return { status: 'pass', message: `no istiod yet: install would install Istio ${version}` }
    const unknown = s.istiods.filter((i) => !i.version || !parseSemver(i.version))
    if (unknown.length)
      return {
        status: 'warn',
        message: `runs istiod ${running}: the version of ${unknown.map((i) => i.name).join(', ')} is not known (no operator.istio.io/version label)`,
        hint: 'An istiod istioctl did not install cannot be upgraded safely by the action; check its version by hand (istioctl version).'
      }
    let notes
    try {
      notes = checkUpgrades({ ...config, clusters: [c] }, target, new Map([[c.name, s]]))
    } catch (e) {
      return {
        status: 'fail',
        message: (e as Error).message,
        hint: 'Install the intermediate minor version first, or set allow-skip-minor: true.'
      }
    }
    if (!notes.length) return { status: 'pass', message: `runs Istio ${running}: install would re-apply ${version}` }
    const downgrade = notes.find((n) => n.kind === 'downgrade')
    const does = notes
      .map(
        (n) =>
          `${n.kind === 'canary' ? 'a canary beside' : n.kind === 'downgrade' ? 'a downgrade of' : 'an in-place upgrade of'} ${n.from} → ${n.to}`
      )
      .join('; ')
    return downgrade
      ? {
          status: 'warn',
          message: `runs Istio ${running}: install would do ${does}`,
          hint: 'Istio does not test downgrades; pin istio-version to what the cluster runs unless you mean it.'
        }
      : { status: 'pass', message: `runs Istio ${running}: install would do ${does}` }
  })
}
