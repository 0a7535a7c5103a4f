import * as istioctl from './istioctl/commands.js'
import { poll } from './poll.js'
import { ClusterTools, CommandError, StepLog } from './tools.js'

/** pkg/kube/multicluster/cluster.go: syncing → synced, or timeout (after PILOT_REMOTE_CLUSTER_TIMEOUT), or closed. */
export type RemoteStatus = 'synced' | 'syncing' | 'timeout' | 'closed' | string

/** One row of `istioctl remote-clusters`: what one istiod pod reports about one cluster. */
export interface RemoteClusterRow {
  cluster: string
  /** `<namespace>/<name>` of the remote secret; empty for the istiod's own cluster. */
  secret: string
  status: RemoteStatus
  istiod: string
  /** From 1.31 on (the pod's istio.io/rev label, empty without one). */
  revision?: string
}

/**
 * Parses `istioctl remote-clusters`: NAME SECRET STATUS ISTIOD [REVISION] (REVISION from 1.31 on), one row per istiod pod
 * and cluster. The table comes from Go's tabwriter, so every cell starts where its header does; cells are read by those
 * offsets, which keeps empty cells (the local cluster's SECRET, a pod without a revision label) in place.
 */
export function parseRemoteClusters(table: string): RemoteClusterRow[] {
  const lines = table.split('\n').filter((l) => l.trim())
  const header = lines.findIndex((l) => /^\s*NAME\s+SECRET\s+STATUS\s+ISTIOD\b/.test(l))
  if (header < 0) return []
  const columns = [...lines[header].matchAll(/\S+/g)].map((m) => ({ name: m[0], start: m.index }))
  const cell = (line: string, name: string): string | undefined => {
    const i = columns.findIndex((c) => c.name === name)
    if (i < 0) return undefined
    return line.slice(columns[i].start, i + 1 < columns.length ? columns[i + 1].start : undefined).trim()
  }
  const rows: RemoteClusterRow[] = []
  for (const line of lines.slice(header + 1)) {
    const row: RemoteClusterRow = {
      cluster: cell(line, 'NAME')!,
      secret: cell(line, 'SECRET')!,
      status: cell(line, 'STATUS')!,
      istiod: cell(line, 'ISTIOD')!
    }
    const revision = cell(line, 'REVISION')
    if (revision !== undefined) row.revision = revision
    if (row.cluster && row.status) rows.push(row)
  }
  return rows
}

/** One istiod pod that does not (yet) see one peer as synced; `not listed` when the pod has no row for it. */
export interface PeerProblem {
  peer: string
  istiod: string
  status: RemoteStatus | 'not listed'
}

/** The istiod pods that answered, in the table's order. */
export const istiodsOf = (rows: RemoteClusterRow[]): string[] => [...new Set(rows.map((r) => r.istiod).filter(Boolean))]

/** Every (peer, pod) pair that is not synced: each pod must list each peer, and every row of it must say synced. */
export function remoteClusterProblems(rows: RemoteClusterRow[], peers: string[]): PeerProblem[] {
  const problems: PeerProblem[] = []
  for (const peer of peers)
    for (const istiod of istiodsOf(rows)) {
      const seen = rows.filter((r) => r.istiod === istiod && r.cluster === peer)
      if (!seen.length) problems.push({ peer, istiod, status: 'not listed' })
      for (const r of seen) if (r.status !== 'synced') problems.push({ peer, istiod, status: r.status })
    }
  return problems
}

/** What a status means for the user, for the error. */
export function explainStatus(status: RemoteStatus | 'not listed', peer: string): string {
  switch (status) {
    case 'timeout':
      return `timeout (istiod gave up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default, without having read ${peer}'s API server)`
    case 'syncing':
      return `still syncing at the deadline (istiod is still trying to read ${peer}'s API server; it gives up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default)`
    case 'closed':
      return `closed (istiod stopped watching ${peer}: its remote secret was removed or replaced)`
    case 'not listed':
      return `not listed (istio-system has no remote secret for ${peer}, or istiod could not build a client from it)`
    default:
      return status
  }
}

/** Per peer, one cell for the summary: `synced`, or the statuses and the pods that report them. */
export function peerStatuses(rows: RemoteClusterRow[], peers: string[]): Map<string, RemoteStatus> {
  const problems = remoteClusterProblems(rows, peers)
  const pods = istiodsOf(rows)
  const out = new Map<string, RemoteStatus>()
  for (const peer of peers) {
    const mine = problems.filter((p) => p.peer === peer)
    if (!pods.length) continue
    if (!mine.length) {
      out.set(peer, 'synced')
      continue
    }
    const byStatus = new Map<string, string[]>()
    for (const p of pods) {
      const status = mine.find((m) => m.istiod === p)?.status ?? 'synced'
      byStatus.set(status, [...(byStatus.get(status) ?? []), p])
    }
    out.set(
      peer,
      byStatus.size === 1
        ? [...byStatus.keys()][0]
        : [...byStatus].map(([s, ps]) => `${s} in ${ps.join(', ')}`).join(', ')
    )
  }
  return out
}

export interface RemoteClustersSeen {
  /** The revision asked for (`--revision`). */
  revision: string
  istiods: string[]
  statuses: Map<string, RemoteStatus>
}

/**
 * Polls `istioctl remote-clusters --revision <revision>` until every istiod pod of that revision shows every peer as
 * `synced`, or the time is up. Without --revision istioctl asks the default revision's istiods (the default tag's, else
 * `default`), which is not the control plane this run installed when a revision is set.
 */
export async function waitForRemoteClusters(
  tools: ClusterTools,
  cluster: string,
  peers: string[],
  timeoutMs: number,
  log: StepLog,
  opts: { revision: string; pollMs?: number }
): Promise<RemoteClustersSeen> {
  const deadline = Date.now() + timeoutMs
  let rows: RemoteClusterRow[] = []
  let lastError = ''
  const synced = await poll(
    deadline,
    async () => {
      try {
        rows = parseRemoteClusters(await istioctl.remoteClusters(tools, cluster, opts.revision, deadline, log))
        lastError = ''
        if (istiodsOf(rows).length && !remoteClusterProblems(rows, peers).length)
          return { revision: opts.revision, istiods: istiodsOf(rows), statuses: peerStatuses(rows, peers) }
      } catch (e) {
        // istiod may still be starting ("unable to find any Istiod instances"): keep polling until the deadline.
        if (!(e instanceof CommandError)) throw e
        lastError = e.stderrTail
        rows = []
      }
      return undefined
    },
    opts.pollMs ?? 2000
  )
  if (synced) return synced
  const seen: RemoteClustersSeen = {
    revision: opts.revision,
    istiods: istiodsOf(rows),
    statuses: peerStatuses(rows, peers)
  }
  const problems = remoteClusterProblems(rows, peers)
  const missing = seen.istiods.length ? [...new Set(problems.map((p) => p.peer))] : peers
  const after = `after ${Math.round(timeoutMs / 1000)} s`
  const lines = seen.istiods.length
    ? [
        `${cluster} does not see ${missing.join(', ')} as synced ${after} (${missing.map((p) => `${p}: ${seen.statuses.get(p)}`).join(', ')})`,
        ...problems.map((p) => `- ${p.peer} in ${p.istiod}: ${explainStatus(p.status, p.peer)}`),
        `(asked the ${seen.istiods.length} istiod pod(s) of revision ${opts.revision}: ${seen.istiods.join(', ')})`
      ]
    : [
        `${cluster} does not see ${missing.join(', ')} as synced ${after}: no istiod pod of revision ${opts.revision} answered`
      ]
  if (lastError) lines[0] += `; last error: ${lastError}`
  throw new VerifyError(cluster, missing, seen, problems, lines.join('\n'))
}

export class VerifyError extends Error {
  constructor(
    readonly cluster: string,
    readonly missing: string[],
    readonly seen: RemoteClustersSeen,
    /** Empty when no istiod pod answered. */
    readonly problems: PeerProblem[],
    message: string
  ) {
    super(message)
  }
}
