// After the plan: read each cluster again as soon as its own steps are done, not once the slowest cluster is.
import { Config } from '../config/index.js'
import { logged } from '../log.js'
import { StepResult } from '../runner.js'
import { redact } from '../secrets.js'
import { ClusterState, readClusterState } from '../state.js'
import { Step } from '../steps/step.js'
import { ClusterTools } from '../tools.js'

export interface Rereads {
  /** The runner's "step finished" event: a cluster whose last step just ended is read again at once. */
  finished(result: StepResult): void
  /** Every cluster's second read (those not read yet are read now); undefined if cancelled or a read failed. */
  all(): Promise<Map<string, ClusterState> | undefined>
}

/**
 * Each step writes only into its own cluster: a cluster applies the remote secrets it holds, and
 * create-remote-secret's reader token lands in the cluster it is run against. So a cluster's istio-system is what
 * the run leaves behind once its last step has ended (skipped steps end too), while slower clusters still install.
 */
export function rereadEachWhenDone(tools: ClusterTools, config: Config, steps: Step[], signal: AbortSignal): Rereads {
  const left = new Map<string, number>()
  for (const s of steps) left.set(s.cluster, (left.get(s.cluster) ?? 0) + 1)
  const reads = new Map<string, Promise<ClusterState | undefined>>()
  const read = (cluster: string) => {
    if (reads.has(cluster) || signal.aborted) return
    reads.set(
      cluster,
      logged(`${cluster} · read istio-system again (what changed)`, (log) =>
        readClusterState(tools, cluster, log).catch((e: unknown) => {
          // Only the "what changed" figures are lost: the run's result does not depend on this read.
          log(`✖ could not read ${cluster} again: ${redact(e instanceof Error ? e.message : String(e))}`)
          return undefined
        })
      )
    )
  }
  return {
    finished(r) {
      const n = (left.get(r.step.cluster) ?? 1) - 1
      left.set(r.step.cluster, n)
      if (n === 0) read(r.step.cluster)
    },
    async all() {
      // A cluster without steps, or one whose last step never ran (a need that never completed), is read now.
      for (const c of config.clusters) read(c.name)
      const states = await Promise.all(config.clusters.map((c) => reads.get(c.name) ?? Promise.resolve(undefined)))
      if (signal.aborted || states.some((s) => !s)) return undefined
      return new Map(config.clusters.map((c, i) => [c.name, states[i]!]))
    }
  }
}
