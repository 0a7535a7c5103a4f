// What install and plan both do before anything changes: read every cluster, check the upgrade, find stale remote
// secrets, build the plan. Install then carries the plan out; plan mode describes it.
import * as core from '@actions/core'
import { Config } from '../config/index.js'
import { roleChange } from '../config/topology.js'
import { StepError } from '../errors.js'
import { Semver, parseSemver } from '../istioctl/version.js'
import { logged } from '../log.js'
import { UpgradeNote, checkUpgrades, staleRemoteSecrets } from '../preflight.js'
import { retiredImageWarnings } from '../retired-registries.js'
import { redact } from '../secrets.js'
import { ClusterState, readClusterState } from '../state.js'
import { buildInstallPlan } from '../steps/install-plan.js'
import { Step } from '../steps/step.js'
import { ClusterTools, CommandError } from '../tools.js'
import { ModeContext } from './context.js'

export interface Preparation {
  /** Every cluster's istio-system before the run. */
  states: Map<string, ClusterState>
  semver: Semver
  upgrades: UpgradeNote[]
  /** Why install must not start (an upgrade Istio does not support): install fails with it, plan reports it. */
  blocker?: string
  /** Per cluster, remote secrets of clusters no longer listed. */
  stale: Map<string, { name: string; cluster: string }[]>
  steps: Step[]
}

/** read states → version → upgrade checks → stale secrets → plan. Writes nothing; warns of retired registries. */
export async function prepare(ctx: ModeContext): Promise<Preparation> {
  const { config } = ctx
  const states = await readStates(
    new ClusterTools(ctx.kubeconfigPath, '', undefined, ctx.env),
    config,
    "mesh · read each cluster's istio-system"
  )
  for (const w of retiredImageWarnings(config, states)) core.warning(w)
  const semver = parseSemver(ctx.version)!
  let upgrades: UpgradeNote[] = []
  let blocker: string | undefined
  try {
    upgrades = checkUpgrades(config, semver, states)
  } catch (e) {
    blocker = (e as Error).message
  }
  blocker = roleChange(config.clusters, states) ?? blocker
  const stale = staleRemoteSecrets(config, states)
  // A cluster whose east-west gateway Service exists gets nothing new for its load balancer.
  const gatewayServices = new Set([...states].filter(([, s]) => s.gateway).map(([name]) => name))
  return { states, semver, upgrades, blocker, stale, steps: buildInstallPlan(config, semver, stale, gatewayServices) }
}

/** Every cluster's istio-system, read concurrently: the only truth about the mesh (no state file). */
export function readStates(tools: ClusterTools, config: Config, title: string): Promise<Map<string, ClusterState>> {
  return logged(title, async (log) => {
    const settled = await Promise.allSettled(config.clusters.map((c) => readClusterState(tools, c.name, log)))
    const failed = settled.flatMap((s, i) =>
      s.status === 'rejected' ? [[config.clusters[i].name, s.reason] as const] : []
    )
    if (failed.length) {
      const [cluster, e] = failed[0]
      const others =
        failed.length > 1
          ? ` (reading ${failed
              .slice(1)
              .map(([c]) => c)
              .join(', ')} failed too)`
          : ''
      if (e instanceof CommandError)
        throw new StepError(cluster, `read istio-system${others}`, e.message, e.command, e.stderrTail)
      throw new StepError(cluster, `read istio-system${others}`, redact(e instanceof Error ? e.message : String(e)))
    }
    return new Map(settled.map((s, i) => [config.clusters[i].name, (s as PromiseFulfilledResult<ClusterState>).value]))
  })
}
