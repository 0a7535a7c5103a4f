import * as core from '@actions/core'
import { canaryNextSteps } from '../preflight.js'
import { retiredImageNote } from '../retired-registries.js'
import { RunReport } from '../report.js'
import { StepResult } from '../runner.js'
import { changedObjects } from '../state.js'
import { RunState, stepExecutor } from '../steps/executor.js'
import { ClusterTools } from '../tools.js'
import { TrustManager } from '../trust/trust.js'
import { ModeContext, baseReport, finish, runSteps, setupIstioctl } from './context.js'
import { prepare } from './prepare.js'
import { rereadEachWhenDone } from './reread.js'

/** mode: install — converge every cluster on the mesh; grows it, upgrades it, prunes it when asked. */
export async function installMode(ctx: ModeContext): Promise<void> {
  const { config } = ctx
  // The download and the reads do not depend on each other.
  const [istioctlPath, { states: before, upgrades, blocker, stale, steps }] = await Promise.all([
    setupIstioctl(ctx),
    prepare(ctx)
  ])
  if (blocker) throw new Error(blocker)
  const tools = new ClusterTools(ctx.kubeconfigPath, istioctlPath, undefined, ctx.env)
  const trust = config.ca.mode === 'none' ? undefined : new TrustManager(config, tools)
  await trust?.prepare(before)

  const state: RunState = { remoteSecrets: new Map(), remoteStatus: new Map() }
  const rereads = rereadEachWhenDone(tools, config, steps, ctx.signal)
  const results = await runSteps(ctx, steps, stepExecutor({ config, tools, trust, state }), rereads.finished)
  const after = await rereads.all()
  const report: RunReport = {
    ...baseReport(ctx, istioctlPath, results),
    remoteStatus: state.remoteStatus,
    probes: state.probes,
    proxyEndpoints: state.proxyEndpoints,
    rootCertPem: trust?.rootCertPem,
    intermediates: trust?.intermediates,
    upgrades,
    nextSteps: canaryNextSteps(config, upgrades),
    staleSecrets: config.prune ? new Map() : stale,
    retiredImages: retiredImageNote(before, after),
    changes:
      after &&
      new Map(
        config.clusters.map((c) => [
          c.name,
          changedObjects(before.get(c.name)!, after.get(c.name)!).length + appliedChanges(results, c.name)
        ])
      )
  }
  if (after)
    for (const c of config.clusters)
      core.info(
        `${c.name}: changed in istio-system: ${changedObjects(before.get(c.name)!, after.get(c.name)!).join(', ') || 'nothing'}`
      )
  await finish(ctx, report, `Mesh ${config.meshId} ready on ${config.clusters.length} clusters`)
}

/** kubectl apply says what it did; count the objects it created or configured in one cluster. */
function appliedChanges(results: Map<string, StepResult>, cluster: string): number {
  return [...results.values()]
    .filter((r) => r.step.cluster === cluster)
    .reduce((n, r) => n + r.log.filter((l) => / (created|configured)$/.test(l)).length, 0)
}
