// One entry of mode: check's `checks` output (issue 14): a stable id, so a workflow can look a check up by name.

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

export interface Check {
  /** Stable: `<check>/<cluster>` or `<check>/<from>/<to>`, e.g. `api-server-reachable/cluster1/cluster2`. */
  id: string
  status: CheckStatus
  /** The cluster the check is about (the one probed from, for a pair). */
  cluster?: string
  message: string
  /** What to do about a warn or fail. */
  hint?: string
}
