// mode: check is a list of providers, each turning what it reads (or probes) into Check entries. The probes of
// src/probes/ are one more provider; the others are here. A provider never throws for a cluster's problem: that is a
// failed check. It throws only for a bug, and the run then fails with it.
import { Config } from '../config/index.js'
import type { ProbeResult } from '../probes/types.js'
import { ClusterState } from '../state.js'
import { ClusterTools, StepLog } from '../tools.js'
import { Check } from './types.js'

export interface CheckContext {
  config: Config
  /** The Istio version install would install (resolved from istio-version). */
  version: string
  tools: ClusterTools
  /** istio-system of every cluster the runner could read (the others failed `api-server-from-runner`). */
  states: Map<string, ClusterState>
  log: StepLog
  signal: AbortSignal
  /** Where a provider that ran probe pods adds what they found (for the diagnostics bundle). */
  probes?: ProbeResult[]
}

export type CheckProvider = (ctx: CheckContext) => Promise<Check[]>

/** The check for a cluster the runner could not read: its own checks cannot run. */
export function skipped(check: string, cluster: string): Check {
  return {
    id: `${check}/${cluster}`,
    status: 'skip',
    cluster,
    message: `not checked: the runner cannot read ${cluster} (see api-server-from-runner/${cluster})`
  }
}

/** One check per cluster: the cluster's own, or `skip` when its istio-system could not be read. */
export function perCluster(
  ctx: Pick<CheckContext, 'config' | 'states'>,
  check: string,
  fn: (cluster: Config['clusters'][number], state: ClusterState) => Omit<Check, 'id' | 'cluster'>
): Check[] {
  return ctx.config.clusters.map((c) => {
    const s = ctx.states.get(c.name)
    return s ? { id: `${check}/${c.name}`, cluster: c.name, ...fn(c, s) } : skipped(check, c.name)
  })
}

/** Worst first: what the summary and the exit code go by. */
export const STATUS_ORDER = ['fail', 'warn', 'skip', 'pass'] as const
