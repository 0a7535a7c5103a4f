// When `verify: traffic` fails (issue 14): what the client's proxy was given for helloworld (istioctl proxy-config
// endpoint) says which part of the mesh is broken. Per peer: none of its endpoints → discovery; its pod IPs → network
// labels (istiod knew no gateway for the pods' network: pilot/pkg/xds/endpoints/ep_filters.go@1.30.3 sends pod IPs
// then); its gateway → the gateway (probed) or the root of trust (compared).
import { createHash } from 'node:crypto'
import { CACERTS_SECRET, EASTWEST_GATEWAY, ISTIO_NAMESPACE, NETWORK_LABEL } from './istio-names.js'
import * as istioctl from './istioctl/commands.js'
import * as kubectl from './kube/kubectl.js'
import { VERIFY_NAMESPACE } from './manifests/helloworld.js'
import { explainProbe } from './probes/explain.js'
import { runProbes } from './probes/run.js'
import { ProbeResult } from './probes/types.js'
import { ClusterTools, CommandError, StepLog } from './tools.js'

export const HELLOWORLD_CLUSTER = `outbound|5000||helloworld.${VERIFY_NAMESPACE}.svc.cluster.local`

/** What one cluster shows about itself: helloworld's pod IPs, the network labels, the gateway, the root. */
export interface ClusterEvidence {
  name: string
  podIps: string[]
  /** topology.istio.io/network on istio-system, on the gateway Service, on each helloworld pod (undefined: none). */
  labels: { namespace?: string; gateway?: string; pods: (string | undefined)[] }
  gateway?: string
  /** sha256 of cacerts' root-cert.pem; undefined without cacerts (istiod's self-signed root, one per cluster). */
  root?: string
}

export type PeerCause =
  | { peer: string; kind: 'discovery' }
  | { peer: string; kind: 'pod-ips'; ips: string[] }
  | { peer: string; kind: 'gateway'; gateway: string }

/** The endpoints (`address:port`) of istioctl proxy-config endpoint -o json for one Envoy cluster. */
export function parseEndpoints(json: string): string[] {
  const clusters = JSON.parse(json || '[]') as any[]
  return clusters.flatMap((c) =>
    ((c?.hostStatuses ?? []) as any[]).map(
      (h) => `${String(h?.address?.socketAddress?.address)}:${Number(h?.address?.socketAddress?.portValue ?? 0)}`
    )
  )
}

/** Per peer, what the client's endpoints hold of it. */
export function classifyEndpoints(endpoints: string[], peers: ClusterEvidence[]): PeerCause[] {
  const hosts = new Set(endpoints.map((e) => e.replace(/:\d+$/, '')))
  return peers.map((p): PeerCause => {
    const ips = p.podIps.filter((ip) => hosts.has(ip))
    if (ips.length) return { peer: p.name, kind: 'pod-ips', ips }
    if (p.gateway && endpoints.includes(`${p.gateway}:15443`))
      return { peer: p.name, kind: 'gateway', gateway: p.gateway }
    return { peer: p.name, kind: 'discovery' }
  })
}

const shown = (v: string | undefined) => (v === undefined ? '(none)' : JSON.stringify(v))

/** The words for one peer; `probe` and the roots decide a `gateway` cause. */
export function explainCause(
  client: ClusterEvidence,
  peer: ClusterEvidence,
  cause: PeerCause,
  probe?: ProbeResult
): string {
  const c = client.name
  switch (cause.kind) {
    case 'discovery':
      return `${c}'s proxy has no endpoint of helloworld in ${peer.name}: ${c}'s istiod does not read ${peer.name} (its remote secret or its access to ${peer.name}'s API server: see the verify step)`
    case 'pod-ips': {
      if (peer.labels.namespace === client.labels.namespace)
        return `${c}'s proxy sends helloworld traffic for ${peer.name} to its pod IPs ${cause.ips.join(', ')}, as for a cluster on the same network (${shown(peer.labels.namespace)}), and requests fail: pods of one network must reach each other directly; if they cannot, give ${peer.name} a network of its own`
      const pods = [...new Set(peer.labels.pods.map(shown))].join(', ')
      return `${c}'s proxy sends helloworld traffic for ${peer.name} to its pod IPs ${cause.ips.join(', ')} instead of its east-west gateway: istiod knows no gateway for the pods' network. ${NETWORK_LABEL} in ${peer.name}: namespace ${ISTIO_NAMESPACE} ${shown(peer.labels.namespace)}, Service ${EASTWEST_GATEWAY} ${shown(peer.labels.gateway)}, helloworld pods ${pods}; they must name one network (the cluster's network in the clusters input)`
    }
    case 'gateway': {
      if (probe && probe.status !== 'reachable' && probe.status !== 'error') {
        const e = explainProbe(probe)
        return `${c}'s proxy sends helloworld traffic for ${peer.name} to its gateway ${cause.gateway}:15443, and requests fail: ${e.message}; ${e.hint}`
      }
      if (!client.root || !peer.root || client.root !== peer.root)
        return `${c}'s proxy sends helloworld traffic for ${peer.name} to its gateway ${cause.gateway}:15443, which is reachable, and requests fail: the roots of trust differ (cacerts root-cert.pem sha256 in ${c}: ${client.root?.slice(0, 12) ?? 'none, self-signed'}, in ${peer.name}: ${peer.root?.slice(0, 12) ?? 'none, self-signed'}): give every cluster cacerts from one root (input ca)`
      return `${c}'s proxy sends helloworld traffic for ${peer.name} to its gateway ${cause.gateway}:15443, which is reachable, with one root of trust, and requests fail: look at the gateway's and the proxies' logs (mTLS, AuthorizationPolicy)`
    }
  }
}

async function readJson(tools: ClusterTools, cluster: string, q: kubectl.Query, log: StepLog): Promise<any> {
  return JSON.parse(
    (await kubectl.getJson(tools, cluster, { ...q, ignoreNotFound: true }, log, {
      quiet: true,
      policy: kubectl.HINT
    })) || '{}'
  )
}

/** Reads a cluster's evidence; what cannot be read is left out. */
export async function gatherEvidence(tools: ClusterTools, name: string, log: StepLog): Promise<ClusterEvidence> {
  const pods = ((
    await readJson(tools, name, { resource: 'pods', namespace: VERIFY_NAMESPACE, selector: 'app=helloworld' }, log)
  ).items ?? []) as any[]
  const ns = await readJson(tools, name, { resource: 'namespace', names: [ISTIO_NAMESPACE] }, log)
  const svc = await readJson(
    tools,
    name,
    { resource: 'services', names: [EASTWEST_GATEWAY], namespace: ISTIO_NAMESPACE },
    log
  )
  const rootB64 = await kubectl
    .getJsonpath(
      tools,
      name,
      { resource: 'secret', names: [CACERTS_SECRET], namespace: ISTIO_NAMESPACE, ignoreNotFound: true },
      '{.data.root-cert\\.pem}',
      log,
      kubectl.HINT
    )
    .catch(() => '')
  const ingress = svc?.status?.loadBalancer?.ingress?.[0] as { ip?: string; hostname?: string } | undefined
  return {
    name,
    podIps: pods.map((p) => String(p?.status?.podIP ?? '')).filter(Boolean),
    labels: {
      namespace: ns?.metadata?.labels?.[NETWORK_LABEL] as string | undefined,
      gateway: svc?.metadata?.labels?.[NETWORK_LABEL] as string | undefined,
      pods: pods.map((p) => p?.metadata?.labels?.[NETWORK_LABEL] as string | undefined)
    },
    gateway: ingress?.ip || ingress?.hostname || undefined,
    root: rootB64.trim() ? createHash('sha256').update(Buffer.from(rootB64.trim(), 'base64')).digest('hex') : undefined
  }
}

/** The lines that explain why `cluster`'s traffic check failed, one per peer; [] when it cannot tell. */
export async function explainTraffic(
  tools: ClusterTools,
  cluster: string,
  peers: string[],
  opts: { probeImage: string },
  log: StepLog
): Promise<{ lines: string[]; probes: ProbeResult[]; endpointsJson?: string }> {
  try {
    const curl = (
      await readJson(tools, cluster, { resource: 'pods', namespace: VERIFY_NAMESPACE, selector: 'app=curl' }, log)
    ).items?.[0]
    if (!curl) return { lines: [], probes: [] }
    // Kept as istioctl printed it: the diagnostics bundle writes it as <cluster>/proxy-endpoints.json.
    const endpointsJson = await istioctl.proxyEndpoints(
      tools,
      cluster,
      { name: curl.metadata.name, namespace: VERIFY_NAMESPACE },
      HELLOWORLD_CLUSTER,
      log
    )
    const endpoints = parseEndpoints(endpointsJson)
    log(`${cluster}'s proxy has for helloworld: ${endpoints.join(', ') || 'no endpoint'}`)
    const client = await gatherEvidence(tools, cluster, log)
    const others = await Promise.all(peers.map((p) => gatherEvidence(tools, p, log)))
    const causes = classifyEndpoints(endpoints, others)
    const gateways = causes.filter((c) => c.kind === 'gateway')
    const probes = gateways.length
      ? await runProbes(
          tools,
          [{ from: cluster, apiServers: [], gateways: gateways.map((g) => ({ to: g.peer, host: g.gateway })) }],
          { image: opts.probeImage, timeoutMs: 90_000 },
          log
        )
      : []
    const lines = causes.map((cause, i) =>
      explainCause(
        client,
        others[i],
        cause,
        probes.find((p) => p.to === cause.peer)
      )
    )
    return { lines, probes, endpointsJson }
  } catch (e) {
    if (!(e instanceof CommandError) && !(e instanceof SyntaxError)) throw e
    log(`could not read what ${cluster}'s proxy was given: ${e.message}`)
    return { lines: [], probes: [] }
  }
}
