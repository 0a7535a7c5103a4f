// How a run reads in the log. GitHub log groups cannot interleave and steps run concurrently, so each step prints one
// line when it starts and its whole output as one group when it ends.
import * as core from '@actions/core'
import { formatSeconds } from './duration.js'
import { StepResult } from './runner.js'
import { Step } from './steps/step.js'

/** `▸ <cluster> · <title> [<cluster>/<kind>]`: the id at the end is stable (bench/ parses it), the title for people. */
export function printStepStarted(step: Step): void {
  core.info(`▸ ${step.cluster} · ${step.title} [${step.id}]`)
}

/** `::group::✔ <cluster> · <title> (<d> s)[: value]` and the step's output; one line for a skipped or cancelled one. */
export function printStep(r: StepResult): void {
  const label = `${r.step.cluster} · ${r.step.title}`
  if (r.status === 'skipped' || r.status === 'cancelled') {
    core.info(`${r.status === 'skipped' ? '⏭' : '🚫'} ${label}: ${r.status === 'skipped' ? r.log[0] : 'cancelled'}`)
    return
  }
  core.startGroup(
    `${r.status === 'ok' ? '✔' : '✖'} ${label} (${formatSeconds(r.durationMs)})${r.value ? `: ${r.value}` : ''}`
  )
  for (const line of r.log) core.info(line)
  if (r.error) core.info(`✖ ${r.error.message}`)
  core.endGroup()
  if (r.error) core.error(r.error.message, { title: `${r.step.cluster} · ${r.step.title}` })
}

/** Work outside the plan (the reads of every cluster) as one group, printed when it ends, with how long it took. */
export async function logged<T>(title: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T> {
  const lines: string[] = []
  const t0 = Date.now()
  try {
    return await fn((l) => lines.push(l))
  } finally {
    core.startGroup(`${title} (${formatSeconds(Date.now() - t0)})`)
    for (const l of lines) core.info(l)
    core.endGroup()
  }
}

/** What the run fails with: the first failed step's error, the others named, and how many steps that skipped. */
export function failureMessage(failures: StepResult[], results: Map<string, StepResult>): string {
  const skipped = [...results.values()].filter((r) => r.status === 'skipped').length
  const first = failures[0].error!.message
  const more =
    failures.length > 1
      ? `\n(${failures.length - 1} more failed step(s): ${failures
          .slice(1)
          .map((f) => `${f.step.cluster} · ${f.step.title}`)
          .join('; ')})`
      : ''
  return `${first}${more}${skipped ? `\n${skipped} dependent step(s) were skipped; the job summary shows each cluster's state.` : ''}`
}
