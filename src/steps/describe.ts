import { Config } from '../config/index.js'
import { UpgradeNote, staleRemoteSecrets } from '../preflight.js'
import { ClusterState } from '../state.js'
import { STEP_KIND_INFO } from './registry.js'
import { Step } from './step.js'

export interface PlannedAction {
  step: string
  title: string
  does: string
}

export interface ClusterPlan {
  cluster: string
  current: {
    namespace: boolean
    network?: string
    istiod: string[]
    gatewayAddress?: string
    remoteSecrets: string[]
    cacerts: boolean
    /** sidecar or ambient (ztunnel present); absent without istiod. */
    dataPlane?: 'sidecar' | 'ambient'
  }
  actions: PlannedAction[]
}

/** mode: plan — what install would do in each cluster, given what it carries now. Pure: reads nothing, writes nothing. */
export function describePlan(
  config: Config,
  version: string,
  steps: Step[],
  states: Map<string, ClusterState>,
  upgrades: UpgradeNote[]
): ClusterPlan[] {
  const stale = staleRemoteSecrets(config, states)
  return config.clusters.map((c) => {
    const s = states.get(c.name)!
    const context = {
      config,
      cluster: c,
      state: s,
      version,
      upgrade: upgrades.find((u) => u.cluster === c.name),
      stale: stale.get(c.name) ?? []
    }
    const actions: PlannedAction[] = steps
      .filter((st) => st.cluster === c.name)
      .map((st) => ({ step: st.kind, title: st.title, does: STEP_KIND_INFO[st.kind].plans({ ...context, step: st }) }))
    const staleHere = stale.get(c.name)
    if (staleHere && !config.prune)
      actions.push({
        step: 'stale-remote-secrets',
        title: 'stale remote secrets',
        does: `found ${staleHere.map((x) => x.name).join(', ')} (clusters no longer listed); prune: true would delete them`
      })
    return {
      cluster: c.name,
      current: {
        namespace: s.namespaceExists,
        network: s.network,
        istiod: s.istiods.map((i) => `${i.name} ${i.version ?? '?'} (${i.revision})`),
        gatewayAddress: s.gateway?.address,
        remoteSecrets: s.remoteSecrets.map((r) => r.cluster),
        cacerts: Boolean(s.cacerts),
        ...(s.dataPlane ? { dataPlane: s.dataPlane } : {})
      },
      actions
    }
  })
}
