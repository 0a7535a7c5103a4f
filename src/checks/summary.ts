import * as core from '@actions/core'
import { STATUS_ORDER } from './provider.js'
import { Check } from './types.js'

const ICON: Record<Check['status'], string> = { pass: '✅', warn: '⚠️', fail: '❌', skip: '⏭️' }

/** `|` and newlines would break a table row. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ')

/** mode: check's job summary: the verdict, what failed first (with the fix), then every check in one table. */
export function renderChecksSummary(meshId: string, version: string, checks: Check[]): string {
  const count = (s: Check['status']) => checks.filter((c) => c.status === s).length
  const verdict = count('fail') ? `❌ ${count('fail')} failed` : count('warn') ? '⚠️ passed with warnings' : '✅ passed'
  const lines = [
    `## Istio multi-cluster mesh \`${meshId}\` — pre-flight check for Istio ${version}: ${verdict}`,
    '',
    STATUS_ORDER.filter((s) => count(s))
      .map((s) => `${ICON[s]} ${count(s)} ${s}`)
      .join(' · '),
    ''
  ]
  const failed = checks.filter((c) => c.status === 'fail')
  if (failed.length) {
    lines.push('### What went wrong', '')
    for (const c of failed) lines.push(`- **\`${c.id}\`**: ${c.message}${c.hint ? `\n  **Fix:** ${c.hint}` : ''}`)
    lines.push('')
  }
  lines.push('| Check | Cluster | Status | Message | Hint |', '|---|---|---|---|---|')
  for (const c of checks)
    lines.push(
      `| \`${c.id}\` | ${c.cluster ?? '—'} | ${ICON[c.status]} ${c.status} | ${cell(c.message)} | ${c.hint ? cell(c.hint) : ''} |`
    )
  lines.push('')
  return lines.join('\n')
}

export async function writeChecksSummary(meshId: string, version: string, checks: Check[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderChecksSummary(meshId, version, checks), true).write()
}
