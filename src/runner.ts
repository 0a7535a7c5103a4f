import { StepError } from './errors.js'
import { Step } from './steps/step.js'
import { redact } from './secrets.js'
import { CommandError, StepLog } from './tools.js'

export type StepStatus = 'ok' | 'failed' | 'skipped' | 'cancelled'

export interface StepResult {
  step: Step
  status: StepStatus
  startedAt?: number
  durationMs: number
  log: string[]
  /** What the step found, e.g. the gateway's address. */
  value?: string
  error?: StepError
}

export type StepExecutor = (step: Step, log: StepLog) => Promise<string | void>

export interface RunnerEvents {
  started(step: Step): void
  finished(result: StepResult): void
}

export interface RunnerOptions {
  maxParallel: number
  execute: StepExecutor
  events: RunnerEvents
  /** Aborted on cancellation: no new step starts; running commands are stopped by the caller. */
  signal?: AbortSignal
}

/**
 * Runs a plan's steps as soon as their needs are done (and the steps they come `after` have finished, whatever their
 * outcome), at most maxParallel at once. A failed step skips what depends on it; everything independent still runs,
 * so one broken cluster does not leave the others half-done.
 */
export async function runPlan(steps: Step[], opts: RunnerOptions): Promise<Map<string, StepResult>> {
  const results = new Map<string, StepResult>()
  const pending = new Set(steps)
  const planned = new Set(steps.map((s) => s.id))
  // An `after` naming a step that is not in the plan orders nothing.
  const ordered = (step: Step) => (step.after ?? []).every((id) => results.has(id) || !planned.has(id))
  const inFlight = new Set<Promise<void>>()

  const settleBlocked = () => {
    let changed = true
    while (changed) {
      changed = false
      for (const step of pending) {
        const broken = step.always
          ? undefined
          : step.needs.find((n) => results.has(n) && results.get(n)!.status !== 'ok')
        if (broken || opts.signal?.aborted) {
          pending.delete(step)
          const status = opts.signal?.aborted ? 'cancelled' : 'skipped'
          const result: StepResult = {
            step,
            status,
            durationMs: 0,
            log: [broken ? `skipped: ${broken} did not complete` : 'cancelled']
          }
          results.set(step.id, result)
          opts.events.finished(result)
          changed = true
        }
      }
    }
  }

  const start = (step: Step) => {
    pending.delete(step)
    const log: string[] = []
    const startedAt = Date.now()
    opts.events.started(step)
    const p = opts
      .execute(step, (line) => log.push(line))
      .then(
        (value): StepResult => ({
          step,
          status: 'ok',
          startedAt,
          durationMs: Date.now() - startedAt,
          log,
          value: value ?? undefined
        }),
        (e: unknown): StepResult => ({
          step,
          status: opts.signal?.aborted ? 'cancelled' : 'failed',
          startedAt,
          durationMs: Date.now() - startedAt,
          log,
          error: toStepError(step, e)
        })
      )
      .then((result) => {
        results.set(step.id, result)
        opts.events.finished(result)
      })
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
  }

  for (;;) {
    settleBlocked()
    for (const step of [...pending]) {
      if (inFlight.size >= opts.maxParallel) break
      if (step.needs.every((n) => results.get(n)?.status === 'ok' || (step.always && results.has(n))) && ordered(step))
        start(step)
    }
    if (inFlight.size === 0) break
    await Promise.race(inFlight)
  }
  // Anything left waited on a need that never ran (a cycle or an unknown id): a bug in the plan, not in a cluster.
  for (const step of pending)
    results.set(step.id, { step, status: 'skipped', durationMs: 0, log: ['skipped: needs never completed'] })
  return results
}

function toStepError(step: Step, e: unknown): StepError {
  if (e instanceof StepError) return e
  if (e instanceof CommandError) return new StepError(step.cluster, step.title, e.message, e.command, e.stderrTail)
  return new StepError(step.cluster, step.title, redact(e instanceof Error ? e.message : String(e)))
}
