import { RunState, stepExecutor } from '../steps/executor.js'
import { buildUninstallPlan } from '../steps/uninstall-plan.js'
import { ClusterTools } from '../tools.js'
import { ModeContext, baseReport, finish, runSteps, setupIstioctl } from './context.js'

/** mode: uninstall — remote secrets, Istio (all revisions) and istio-system, in every cluster; clean clusters are fine. */
export async function uninstallMode(ctx: ModeContext): Promise<void> {
  const istioctlPath = await setupIstioctl(ctx)
  const tools = new ClusterTools(ctx.kubeconfigPath, istioctlPath, undefined, ctx.env)
  const state: RunState = { remoteSecrets: new Map(), remoteStatus: new Map() }
  const results = await runSteps(
    ctx,
    buildUninstallPlan(ctx.config),
    stepExecutor({ config: ctx.config, tools, state })
  )
  await finish(
    ctx,
    { ...baseReport(ctx, istioctlPath, results), remoteStatus: new Map() },
    `Mesh ${ctx.config.meshId} removed from ${ctx.config.clusters.length} clusters`
  )
}
