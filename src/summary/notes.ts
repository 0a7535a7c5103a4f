// Parts of the install/uninstall summary below its tables: the root of trust, the mesh picture, retired images.
import type { ClusterOutcome, RunReport } from '../report.js'
import { RETIREMENT, RetiredImageNote } from '../retired-registries.js'
import { stepId } from '../steps/step.js'
import { certValidity } from '../trust/chain.js'
import type { TrustOutcome } from '../trust/trust.js'

const INTERMEDIATE_NOTE: Record<TrustOutcome, string> = {
  created: ' (created)',
  kept: '',
  renewed: ' (re-issued)',
  rotated: ' (replaced)',
  checked: ''
}

/** When each cluster's intermediate CA expires: re-issued by a run within 30 days of it (ca: existing fails instead). */
export function renderIntermediates(r: RunReport): string[] {
  const root = r.rootCertPem && certValidity(r.rootCertPem)
  const lines = [
    `**Root of trust**${root ? ` (mesh root valid until ${root.notAfter.toISOString().slice(0, 10)})` : ''}`,
    ''
  ]
  for (const [cluster, i] of r.intermediates!)
    lines.push(`- ${cluster}: intermediate CA valid until ${i.notAfter.slice(0, 10)}${INTERMEDIATE_NOTE[i.outcome]}`)
  return lines
}

export function renderMermaid(r: RunReport, outcomes: ClusterOutcome[]): string[] {
  const id = (name: string) => `c_${name.replace(/-/g, '_')}`
  const out = ['flowchart LR']
  const networks = [...new Set(outcomes.map((o) => o.network))]
  for (const [i, n] of networks.entries()) {
    out.push(`  subgraph n${i}["network ${n}"]`)
    for (const o of outcomes.filter((x) => x.network === n)) {
      const c = r.config.clusters.find((x) => x.name === o.name)
      const what = c?.role === 'remote' ? `remote of ${c.primary}` : 'istiod'
      const gateway = r.results.has(stepId(o.name, 'eastwest-gateway'))
        ? ` + east-west gateway<br/>${o.gatewayAddress ?? 'no address'}`
        : ''
      out.push(`    ${id(o.name)}["${o.name}<br/>${what}${gateway}"]`)
    }
    out.push('  end')
  }
  const names = outcomes.map((o) => o.name)
  for (const [i, a] of names.entries())
    for (const b of names.slice(i + 1)) {
      // Two remotes exchange nothing: neither has an istiod.
      if ([a, b].every((x) => r.config.clusters.find((c) => c.name === x)?.role === 'remote')) continue
      const ab = r.results.get(stepId(b, 'remote-secrets-in'))?.status === 'ok'
      const ba = r.results.get(stepId(a, 'remote-secrets-in'))?.status === 'ok'
      if (ab && ba) out.push(`  ${id(a)} <-- remote secrets --> ${id(b)}`)
      else if (ab || ba) out.push(`  ${ab ? id(a) : id(b)} -- remote secret --> ${ab ? id(b) : id(a)}`)
      else out.push(`  ${id(a)} -. no remote secrets .- ${id(b)}`)
    }
  return out
}

/** Workloads on retired registries: what install moves, and what keeps its image until its pods restart. */
export function retiredImagesNote(hub: string, note: RetiredImageNote, does: string): string[] {
  return [
    '> [!WARNING]',
    `> Istio workloads ran images from ${note.registries.map((r) => `\`${r}\``).join(', ')}, retired in ${RETIREMENT} (the warnings name each); ${does} from \`${hub}\`.`,
    '> Pods do not change their image by themselves: sidecars injected before keep their old image until their pods restart (`kubectl rollout restart deployment/<name> -n <namespace>`), and so do injected gateways:',
    ...(note.restart.length ? note.restart.map((c) => `> - \`${c}\``) : ['> - none found in istio-system']),
    ''
  ]
}
