import { isStopping, pause } from './exec.js'
import { ClusterTools, CommandError, StepLog } from './tools.js'

export type RemoteStatus = 'synced' | 'syncing' | 'timeout' | 'closed' | string

/** Parses `istioctl remote-clusters`: NAME SECRET STATUS ISTIOD [REVISION] (REVISION from 1.31 on). */
export function parseRemoteClusters(table: string): Map<string, RemoteStatus> {
  const lines = table.split('\n').filter((l) => l.trim())
  const header = lines.findIndex((l) => /^\s*NAME\s+SECRET\s+STATUS/.test(l))
  const statuses = new Map<string, RemoteStatus>()
  if (header < 0) return statuses
  const columns = lines[header].trim().split(/\s+/)
  const statusAt = columns.indexOf('STATUS')
  for (const line of lines.slice(header + 1)) {
    const cells = line.trim().split(/\s+/)
    // The local cluster's SECRET cell is empty, so its row has one cell fewer before STATUS.
    const status = cells.length === columns.length ? cells[statusAt] : cells[statusAt - 1]
    if (cells[0] && status) statuses.set(cells[0], status)
  }
  return statuses
}

/** Polls until every peer shows `synced` in this cluster's istiod, or the time is up. Returns the last statuses seen. */
export async function waitForRemoteClusters(
  tools: ClusterTools,
  cluster: string,
  peers: string[],
  timeoutMs: number,
  log: StepLog,
  pollMs = 2000
): Promise<Map<string, RemoteStatus>> {
  const deadline = Date.now() + timeoutMs
  let statuses = new Map<string, RemoteStatus>()
  let lastError = ''
  for (;;) {
    try {
      const r = await tools.istioctl(cluster, ['remote-clusters'], log, { timeoutMs: Math.max(10_000, Math.min(60_000, deadline - Date.now())), retry: true })
      statuses = parseRemoteClusters(r.stdout)
      lastError = ''
      if (peers.every((p) => statuses.get(p) === 'synced')) return statuses
    } catch (e) {
      // istiod may still be starting ("no running Istio pods"): keep polling until the deadline.
      if (!(e instanceof CommandError)) throw e
      lastError = e.stderrTail
    }
    if (Date.now() + pollMs > deadline || isStopping()) break
    await pause(pollMs)
  }
  const missing = peers.filter((p) => statuses.get(p) !== 'synced')
  const detail = missing.map((p) => `${p}: ${statuses.get(p) ?? 'not listed (no remote secret?)'}`).join(', ')
  throw new VerifyError(
    cluster,
    missing,
    statuses,
    `${cluster} does not see ${missing.join(', ')} as synced after ${Math.round(timeoutMs / 1000)} s (${detail})${lastError ? `; last error: ${lastError}` : ''}`
  )
}

export class VerifyError extends Error {
  constructor(
    readonly cluster: string,
    readonly missing: string[],
    readonly statuses: Map<string, RemoteStatus>,
    message: string
  ) {
    super(message)
  }
}
