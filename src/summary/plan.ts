import * as core from '@actions/core'
import type { RunReport } from '../report.js'
import { RetiredImageNote } from '../retired-registries.js'
import { ClusterPlan } from '../steps/describe.js'
import { retiredImagesNote } from './notes.js'

/** mode: plan — what install would do, per cluster, after what each cluster carries now. */
export function renderPlanSummary(
  config: RunReport['config'],
  version: string,
  plan: ClusterPlan[],
  blocker?: string,
  retired?: RetiredImageNote
): string {
  const lines = [
    `## Istio multi-cluster mesh \`${config.meshId}\` — plan for Istio ${version} (nothing was changed)`,
    ''
  ]
  if (blocker) lines.push('> [!CAUTION]', `> install would fail: ${blocker}`, '')
  if (retired)
    lines.push(...retiredImagesNote(config.hub, retired, 'install would render the control plane and gateways'))
  for (const c of plan) {
    const now = c.current
    lines.push(`### ${c.cluster}`, '')
    lines.push(
      `Now: ${now.namespace ? `istio-system (network ${now.network ?? 'unlabelled'})` : 'no istio-system'}; istiod ${now.istiod.join(', ') || 'none'}; gateway ${now.gatewayAddress ?? 'none'}; remote secrets of ${now.remoteSecrets.join(', ') || 'none'}; cacerts ${now.cacerts ? 'present' : 'absent'}.`,
      ''
    )
    lines.push('| Step | Install would |', '|---|---|', ...c.actions.map((a) => `| ${a.title} | ${a.does} |`), '')
  }
  return lines.join('\n')
}

export async function writePlanSummary(
  config: RunReport['config'],
  version: string,
  plan: ClusterPlan[],
  blocker?: string,
  retired?: RetiredImageNote
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderPlanSummary(config, version, plan, blocker, retired), true).write()
}
