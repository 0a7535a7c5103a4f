// What the probe pod printed (src/manifests/probe.ts) → one ProbeResult per target. Pure: unit-tested.
import { ApiServerTarget, GatewayTarget } from '../manifests/probe.js'
import { ApiServerProbeStatus, GatewayProbeStatus, ProbeResult } from './types.js'

/** One request the script made: `probe <target> <cluster> <step> <curl exit> <http code> <seconds> <error text>`. */
export interface ProbeLine {
  target: 'api-server' | 'gateway'
  to: string
  step: string
  exit: number
  http: number
  /** Seconds since the probe pod's script started, when it printed the line. */
  seconds: number
  text: string
}

export function parseProbeLog(log: string): { lines: ProbeLine[]; done: boolean } {
  const lines: ProbeLine[] = []
  let done = false
  for (const raw of log.split('\n')) {
    const f = raw.split('\t')
    if (f[0] !== 'probe') continue
    if (f[1] === 'done') done = true
    if ((f[1] === 'api-server' || f[1] === 'gateway') && f.length >= 7)
      lines.push({
        target: f[1],
        to: f[2],
        step: f[3],
        exit: Number(f[4]),
        http: Number(f[5]) || 0,
        seconds: Number(f[6]) || 0,
        text: (f[7] ?? '').trim()
      })
  }
  return { lines, done }
}

// curl's exit codes (curl man page, EXIT CODES; libcurl-errors.md).
const CURL_UNRESOLVED = 6
const CURL_REFUSED = 7
const CURL_TIMEOUT = 28
const CURL_SSL_CONNECT = 35
const CURL_RECV = 56
const CURL_PEER_VERIFY = 60

/** The API server probe's last request decides: the first one that failed, or the last one when all passed. */
export function classifyApiServer(lines: ProbeLine[]): { status: ApiServerProbeStatus; detail: string } {
  const last = lines[lines.length - 1]
  if (!last) return { status: 'error', detail: 'the probe printed nothing for it' }
  const what = last.step === 'version' ? 'GET /version' : `list ${last.step}`
  const text = last.text ? `: ${last.text}` : ''
  switch (last.exit) {
    case CURL_UNRESOLVED:
      return { status: 'unresolvable', detail: `the host name does not resolve${text}` }
    case CURL_REFUSED:
      return { status: 'refused', detail: `connection refused${text}` }
    case CURL_TIMEOUT:
      return { status: 'timeout', detail: `the connection timed out${text}` }
    case CURL_PEER_VERIFY:
      return {
        status: 'tls-unknown-authority',
        detail: `its certificate is not signed by the remote secret's CA${text}`
      }
    case 0:
      if (last.http === 200) return { status: 'ok', detail: 'GET /version and the lists istiod makes answered 200' }
      if (last.http === 401) return { status: 'unauthorized', detail: `${what} answered 401 Unauthorized${text}` }
      if (last.http === 403) return { status: 'forbidden', detail: `${what} answered 403 Forbidden${text}` }
      return { status: 'error', detail: `${what} answered HTTP ${last.http}${text}` }
    default:
      return { status: 'error', detail: `${what}: curl exit code ${last.exit}${text}` }
  }
}

/**
 * The gateway probe: a TLS handshake with port 15443 (`curl -k`, no SNI for an IP). An AUTO_PASSTHROUGH listener has
 * no filter chain for it and closes the connection (exit 35, or 56 on a reset): TCP reached Envoy, nothing in between
 * terminated TLS. A completed handshake and an HTTP answer mean something else terminates TLS (an L7 load balancer).
 */
export function classifyGateway(lines: ProbeLine[]): { status: GatewayProbeStatus; detail: string } {
  const last = lines[lines.length - 1]
  if (!last) return { status: 'error', detail: 'the probe printed nothing for it' }
  const text = last.text ? `: ${last.text}` : ''
  switch (last.exit) {
    case CURL_UNRESOLVED:
      return { status: 'unresolvable', detail: `the host name does not resolve${text}` }
    case CURL_REFUSED:
      return { status: 'refused', detail: `connection refused${text}` }
    case CURL_TIMEOUT:
      return { status: 'timeout', detail: `the connection timed out${text}` }
    case CURL_SSL_CONNECT:
    case CURL_RECV:
      return { status: 'reachable', detail: 'TCP connected and the TLS handshake was not answered (TLS passthrough)' }
    case 0:
      return {
        status: 'not-passthrough',
        detail: `something completed the TLS handshake and answered HTTP ${last.http} (an L7 load balancer terminates TLS)`
      }
    default:
      return { status: 'error', detail: `curl exit code ${last.exit}${text}` }
  }
}

/** Every target's result; a target the log does not mention is an `error` with `missing` as its detail. */
export function probeResults(
  from: string,
  targets: { apiServers: ApiServerTarget[]; gateways: GatewayTarget[] },
  lines: ProbeLine[],
  missing: string
): ProbeResult[] {
  const of = (target: ProbeLine['target'], to: string) => lines.filter((l) => l.target === target && l.to === to)
  return [
    ...targets.apiServers.map((t): ProbeResult => {
      const mine = of('api-server', t.to)
      const c = mine.length ? classifyApiServer(mine) : { status: 'error' as const, detail: missing }
      return { from, to: t.to, target: 'api-server', address: t.url, ...c }
    }),
    ...targets.gateways.map((g): ProbeResult => {
      const mine = of('gateway', g.to)
      const c = mine.length ? classifyGateway(mine) : { status: 'error' as const, detail: missing }
      const seconds = mine.at(-1)?.seconds
      return {
        from,
        to: g.to,
        target: 'gateway',
        address: `${g.host}:15443`,
        ...c,
        ...(seconds !== undefined ? { seconds } : {})
      }
    })
  ]
}
