// Gateways that really forward (issue 14): an address in the Service status is not a working gateway (an AWS NLB's
// hostname is there minutes before it forwards). Each cluster probes, in one probe pod, the east-west gateways of its
// peers on other networks; the pod tries each again every 2 s until it forwards or gateway-timeout is up.
import { explainProbe } from './explain.js'
import { runProbes } from './run.js'
import { gatewayAddress } from './targets.js'
import { ProbeResult } from './types.js'
import { ClusterTools, StepLog } from '../tools.js'

/** What the probe pod's start (an image pull) and the reads around it get beyond gateway-timeout. */
const POD_MARGIN_MS = 60_000

/**
 * Probes from `cluster` the gateway of every peer in `peers` until each forwards (`reachable`), and returns per gateway
 * how long that took. Fails when something terminates TLS in front of one (that does not pass: the pod does not try it
 * again), or when one still does not forward after gateway-timeout, with the cause and fix per gateway. A probe that
 * cannot run (`error`: an image it cannot pull) does not hold the install up: it is logged and not waited for.
 */
export async function waitForGatewayForwarding(
  tools: ClusterTools,
  cluster: string,
  peers: string[],
  opts: { timeoutMs: number; image: string; addresses?: ReadonlyMap<string, string> },
  log: StepLog
): Promise<{ summary: string; results: ProbeResult[] }> {
  // The peers' gateway-address steps found them (one read per gateway in all, not one per prober); else read here.
  const hosts = await Promise.all(
    peers.map(async (p) => opts.addresses?.get(p) ?? (await gatewayAddress(tools, p, log)))
  )
  const missing = peers.filter((_p, i) => !hosts[i])
  if (missing.length) throw new Error(`the east-west gateway of ${missing.join(', ')} has no address to probe`)
  const results = await runProbes(
    tools,
    [{ from: cluster, apiServers: [], gateways: peers.map((to, i) => ({ to, host: hosts[i]! })) }],
    { image: opts.image, timeoutMs: opts.timeoutMs + POD_MARGIN_MS, retryGatewaysMs: opts.timeoutMs },
    log
  )
  const l7 = results.filter((r) => r.status === 'not-passthrough').map(explainProbe)
  if (l7.length) throw new GatewayProbeError(l7.map((e) => `${e.message}; ${e.hint}`).join('\n'), results)
  const after = `after ${Math.round(opts.timeoutMs / 1000)} s (gateway-timeout)`
  const failing = results.filter((r) => r.status !== 'reachable' && r.status !== 'error').map(explainProbe)
  if (failing.length)
    throw new GatewayProbeError(failing.map((e) => `${e.message} ${after}; ${e.hint}`).join('\n'), results)
  for (const r of results)
    if (r.status === 'error') log(`could not probe ${r.address} from ${r.from} (${r.detail}); not waiting for it`)
  const took = (r: ProbeResult) =>
    r.status === 'reachable' ? `${r.to} after ${r.seconds ?? 0} s` : `${r.to} not probed`
  return { summary: results.map(took).join(', '), results }
}

export class GatewayProbeError extends Error {
  constructor(
    message: string,
    readonly results: ProbeResult[]
  ) {
    super(message)
  }
}
