// A probe result in words: what failed (message) and its cause and fix (hint). Pure: verification's errors, mode:
// check's `checks` and the summary all say the same thing.
import { Check } from '../checks/types.js'
import { isLoopbackServer } from '../kube/remote-secret.js'
import { ProbeResult } from './types.js'

export interface Explanation {
  ok: boolean
  /** `cluster1's istiod cannot reach cluster2's API server https://…: connection refused from inside cluster1` */
  message: string
  /** The cause and the fix: `it is a loopback address: set api-server for cluster2`. */
  hint?: string
}

const hostOf = (address: string) => {
  try {
    return new URL(address).host
  } catch {
    return address
  }
}

export function explainProbe(r: ProbeResult): Explanation {
  return r.target === 'api-server' ? explainApiServer(r) : explainGateway(r)
}

function explainApiServer(r: ProbeResult): Explanation {
  const { from, to, address } = r
  if (r.status === 'ok') return { ok: true, message: `${from} reaches ${to}'s API server ${address} (${r.detail})` }
  // A 401 or 403 comes from the API server itself: reached, but not readable with the remote secret.
  const auth = r.status === 'unauthorized' || r.status === 'forbidden'
  const head = `${from}'s istiod cannot ${auth ? 'read' : 'reach'} ${to}'s API server ${address}`
  const said: Record<string, [string, string]> = {
    unresolvable: [
      'the host name does not resolve',
      `set api-server for ${to} to an address ${from}'s pods can resolve (a name in a DNS they use, or an IP)`
    ],
    refused: isLoopbackServer(address)
      ? ['connection refused', `it is a loopback address: set api-server for ${to}`]
      : [
          'connection refused',
          `nothing listens at ${hostOf(address)} as seen from ${from} (a wrong port, or a load balancer without that listener): set api-server for ${to} to the address other clusters reach its API server at`
        ],
    timeout: [
      'the connection timed out',
      `a firewall, security group or NetworkPolicy drops ${from}'s traffic to ${hostOf(address)}, or ${from} has no route to it: allow egress from ${from}'s pods to it, or set api-server for ${to} to an address ${from} can reach`
    ],
    'tls-unknown-authority': [
      `the certificate it presents inside ${from} is not signed by the CA in ${to}'s remote secret`,
      `a TLS-intercepting proxy between ${from} and ${to}, or another server at that address: exempt ${hostOf(address)} from TLS inspection, or set api-server for ${to} to the address whose certificate ${to}'s CA signed`
    ],
    unauthorized: [
      "401 Unauthorized: the remote secret's token is not accepted",
      `the token was revoked or its service account deleted in ${to}: run the install again to recreate ${to}'s remote secret`
    ],
    forbidden: [
      '403 Forbidden: the reader account may not list what istiod watches',
      `the reader ClusterRole or its binding in ${to} is missing or changed (istio-reader-clusterrole-*): run the install again, which recreates them with the remote secret`
    ]
  }
  const [what, hint] = said[r.status] ?? [r.detail, `the probe could not tell why: ${r.detail}`]
  const where = r.status === 'tls-unknown-authority' || auth ? '' : ` from inside ${from}`
  return { ok: false, message: `${head}: ${what}${where}`, hint }
}

function explainGateway(r: ProbeResult): Explanation {
  const { from, to, address } = r
  if (r.status === 'reachable') return { ok: true, message: `${from} reaches ${to}'s east-west gateway ${address}` }
  const head = `${from} cannot use ${to}'s east-west gateway ${address}`
  const said: Record<string, [string, string]> = {
    unresolvable: [
      'the host name does not resolve',
      `the load balancer's name is not (yet) in DNS as seen from ${from}: wait for it, or give ${to}'s gateway an address ${from} resolves`
    ],
    refused: [
      'connection refused',
      `nothing listens on port 15443 there: check that the istio-eastwestgateway Service in ${to} exposes 15443 and its pods are ready`
    ],
    timeout: [
      'the connection timed out',
      `a firewall or security group drops TCP 15443 from ${from}, or the load balancer does not forward yet (an NLB registers its targets minutes after its address appears): allow TCP 15443 from ${from}, or raise gateway-timeout`
    ],
    'not-passthrough': [
      'something there terminates TLS and answers HTTP',
      `an L7 load balancer (e.g. an AWS ALB or an HTTPS load balancer) is in front of the gateway, but cross-network traffic is mTLS that must pass through to it: use an L4 (network) load balancer, e.g. the annotation service.beta.kubernetes.io/aws-load-balancer-type: nlb in gateway-service-annotations`
    ]
  }
  const [what, hint] = said[r.status] ?? [r.detail, `the probe could not tell why: ${r.detail}`]
  return { ok: false, message: `${head}: ${what} from inside ${from}`, hint }
}

/** One Check per probe result, ids `api-server-reachable/<from>/<to>` and `gateway-reachable/<from>/<to>`. */
export function probeChecks(results: ProbeResult[]): Check[] {
  return results.map((r) => {
    const e = explainProbe(r)
    const check = r.target === 'api-server' ? 'api-server-reachable' : 'gateway-reachable'
    return {
      id: `${check}/${r.from}/${r.to}`,
      // `error`: the probe itself could not run or tell (an image it cannot pull, a pod that never finished).
      status: e.ok ? 'pass' : r.status === 'error' ? 'warn' : 'fail',
      cluster: r.from,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {})
    }
  })
}
