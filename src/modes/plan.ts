import * as core from '@actions/core'
import { retiredImageNote } from '../retired-registries.js'
import { writePlanSummary } from '../report.js'
import { describePlan } from '../steps/describe.js'
import { ModeContext } from './context.js'
import { prepare } from './prepare.js'

/** mode: plan — read every cluster and say what install would do. Writes nothing anywhere. */
export async function planMode(ctx: ModeContext): Promise<void> {
  const { config, version } = ctx
  const { states, upgrades, blocker, steps } = await prepare(ctx)
  const plan = describePlan(config, version, steps, states, upgrades)
  const output = {
    mode: 'plan',
    istioVersion: version,
    meshId: config.meshId,
    blocker: blocker ?? null,
    clusters: plan
  }
  core.setOutput('plan', JSON.stringify(output))
  for (const c of plan) {
    core.startGroup(`${c.cluster}: what install would do`)
    for (const a of c.actions) core.info(`${a.title}: ${a.does}`)
    core.endGroup()
  }
  await writePlanSummary(config, version, plan, blocker, retiredImageNote(states))
  if (blocker) core.setFailed(`install would fail: ${blocker}`)
}
