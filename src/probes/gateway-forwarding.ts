// Gateways that really forward (issue 14): an address in the Service status is not a working gateway (an AWS NLB's
// hostname is there minutes before it forwards). After the address appears, a probe pod in each peer on another
// network must reach it on port 15443 before the pair counts as ready, within gateway-timeout.
import { pause } from '../exec.js'
import { explainProbe } from './explain.js'
import { runProbes } from './run.js'
import { gatewayAddress } from './targets.js'
import { ProbeResult } from './types.js'
import { ClusterTools, StepLog } from '../tools.js'

/** One probe round's own bound (an image pull, one connect); rounds repeat until the step's deadline. */
const ROUND_MS = 60_000
const BETWEEN_ROUNDS_MS = 2000

/**
 * Probes `cluster`'s gateway from every peer until each reaches it (`reachable`), and returns per peer how long that
 * took. Fails at once when something terminates TLS in front of it (that does not pass), at the deadline with the
 * last cause and fix per peer otherwise. A probe that cannot run in a peer (`error`) does not hold the install up:
 * it is logged and that peer is not waited for.
 */
export async function waitForGatewayForwarding(
  tools: ClusterTools,
  cluster: string,
  peers: string[],
  opts: { timeoutMs: number; image: string },
  log: StepLog
): Promise<{ summary: string; results: ProbeResult[] }> {
  const started = Date.now()
  const deadline = started + opts.timeoutMs
  const host = await gatewayAddress(tools, cluster, log)
  if (!host) throw new Error(`${cluster}'s east-west gateway has no address to probe`)
  const pending = new Set(peers)
  const took = new Map<string, string>()
  let last: ProbeResult[] = []
  const all: ProbeResult[] = []
  for (;;) {
    const left = deadline - Date.now()
    last = await runProbes(
      tools,
      [...pending].map((from) => ({ from, apiServers: [], gateways: [{ to: cluster, host }] })),
      { image: opts.image, timeoutMs: Math.max(5000, Math.min(ROUND_MS, left)) },
      log
    )
    all.push(...last)
    for (const r of last) {
      const s = Math.round((Date.now() - started) / 1000)
      if (r.status === 'reachable') {
        took.set(r.from, `reachable from ${r.from} after ${s} s`)
        pending.delete(r.from)
      } else if (r.status === 'error') {
        log(`could not probe ${r.address} from ${r.from} (${r.detail}); not waiting for it`)
        took.set(r.from, `not probed from ${r.from}`)
        pending.delete(r.from)
      } else if (r.status === 'not-passthrough') {
        const e = explainProbe(r)
        throw new GatewayProbeError(`${e.message}; ${e.hint}`, all)
      } else log(`${r.from} → ${r.address}: ${r.status} after ${s} s (${r.detail})`)
    }
    if (!pending.size || Date.now() + BETWEEN_ROUNDS_MS > deadline) break
    await pause(BETWEEN_ROUNDS_MS)
  }
  if (pending.size) {
    const failing = last.filter((r) => pending.has(r.from)).map(explainProbe)
    const after = `after ${Math.round(opts.timeoutMs / 1000)} s (gateway-timeout)`
    throw new GatewayProbeError(failing.map((e) => `${e.message} ${after}; ${e.hint}`).join('\n'), all)
  }
  return { summary: peers.map((p) => took.get(p)).join(', '), results: all }
}

export class GatewayProbeError extends Error {
  constructor(
    message: string,
    readonly results: ProbeResult[]
  ) {
    super(message)
  }
}
