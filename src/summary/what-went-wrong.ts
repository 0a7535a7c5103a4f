// The summary's "What went wrong": each failed step's error (a StepError naming cluster, step, cause, command and
// stderr) with its cause in one line and, where the cause is a known one, what to do about it.
import { ACCESS_CAUSES } from '../checks/access.js'
import { LOAD_BALANCER_HINT } from '../kube/gateway.js'
import { StepResult } from '../runner.js'

export interface Diagnosis {
  cluster: string
  step: string
  /** The error's first line: what failed, in the step's own words. */
  cause: string
  /** A known cause's fix; absent when the error itself is all the action knows. */
  fix?: string
  /** The whole error (command, stderr tail), redacted like every error. */
  error: string
}

// Causes seen in the errors of steps (not only reads); the access causes come from mode: check, worded alike.
const STEP_CAUSES: { test: RegExp; fix: string }[] = [
  { test: /got no external address/, fix: LOAD_BALANCER_HINT },
  {
    test: /ImagePullBackOff|ErrImagePull/,
    fix: 'Point "hub" (and the verify-image-* inputs) at a registry the nodes can pull from; the error names the image.'
  },
  {
    test: /does not chain to the mesh root|different roots of trust|different mesh roots/,
    fix: 'Give every cluster a cacerts of one root: re-run with ca-rotate: true, or use ca: existing / provided with the root they share.'
  },
  // A step's command that timed out is no sign of an unreachable API server: that cause is for reads only.
  {
    test: /failed calling webhook/,
    fix: "istiod's admission webhook did not answer, so the API server refused the write: re-run once istiod is Ready (kubectl get pods -n istio-system -l app=istiod; the diagnostics artifact has its pods and events)."
  },
  ...ACCESS_CAUSES.filter((c) => c.id !== 'timeout').map((c) => ({ test: c.test, fix: c.hint }))
]

/** The fix of the first known cause the error text shows, if any. */
export function knownFix(error: string): string | undefined {
  return STEP_CAUSES.find((c) => c.test.test(error))?.fix
}

export function diagnose(r: StepResult): Diagnosis {
  const error = r.error?.message ?? r.log.at(-1) ?? 'failed'
  const detail = r.error?.detail ?? error
  return {
    // The error's own names, as its message shows them.
    cluster: r.error?.cluster ?? r.step.cluster,
    step: r.error?.step ?? r.step.title,
    cause: detail.split('\n')[0],
    fix: knownFix(error),
    error
  }
}

/** The section, or nothing when no step failed. */
export function renderWhatWentWrong(results: Iterable<StepResult>): string[] {
  const failed = [...results].filter((r) => r.status === 'failed')
  if (!failed.length) return []
  const lines = ['### What went wrong', '']
  for (const d of failed.map(diagnose)) {
    lines.push(`**${d.cluster} · ${d.step}**: ${d.cause}`, '')
    if (d.fix) lines.push(`**Fix:** ${d.fix}`, '')
    lines.push('```', d.error, '```', '')
  }
  return lines
}
