// What a probe pod in one cluster found about another cluster's API server or east-west gateway (issue 14). The
// probes' runner (src/probes/) produces these; verification, mode: check and the diagnostics artifact read them.

/** An API server at the address a remote secret carries, seen from inside another cluster. */
export type ApiServerProbeStatus =
  'ok' | 'unresolvable' | 'refused' | 'timeout' | 'tls-unknown-authority' | 'unauthorized' | 'forbidden' | 'error'

/** An east-west gateway's address, port 15443, seen from inside another cluster. */
export type GatewayProbeStatus = 'reachable' | 'unresolvable' | 'refused' | 'timeout' | 'not-passthrough' | 'error'

export interface ProbeResult {
  /** The cluster the probe pod ran in. */
  from: string
  /** The cluster probed. */
  to: string
  target: 'api-server' | 'gateway'
  /** The URL (api-server) or host:port (gateway) probed. */
  address: string
  status: ApiServerProbeStatus | GatewayProbeStatus
  /** What the probe saw (never a credential): for the error message and the artifact. */
  detail: string
  /** A gateway: the seconds after the probe pod started when it settled (reachable, or its last try). */
  seconds?: number
}
