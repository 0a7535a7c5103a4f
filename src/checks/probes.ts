// api-server-reachable/<from>/<to> and gateway-reachable/<from>/<to>: what a probe pod inside each cluster reaches
// (issue 14). Each primary's istiod reads every other cluster's API server (topology.ts secretSources): with the
// remote secret it already holds, else at the address create-remote-secret would write (api-server, or the
// kubeconfig's server) with the kubeconfig's CA. Each existing east-west gateway is probed from the clusters on
// other networks, whose traffic crosses it. The probes' namespaces are removed afterwards (run.ts).
import { readFileSync } from 'node:fs'
import * as yaml from 'js-yaml'
import { secretSources } from '../config/topology.js'
import { ISTIO_NAMESPACE } from '../istio-names.js'
import * as kubectl from '../kube/kubectl.js'
import { ApiServerTarget, GatewayTarget } from '../manifests/probe.js'
import { probeChecks } from '../probes/explain.js'
import { ProbeRequest, runProbes } from '../probes/run.js'
import { apiServerTargetFromRemoteSecret } from '../probes/targets.js'
import { VERIFY_PROBE_TIMEOUT_MS } from '../verify-probes.js'
import { CheckContext, CheckProvider } from './provider.js'
import { Check } from './types.js'

export const probeProvider: CheckProvider = async (ctx) => {
  const { clusters } = ctx.config
  const skips: Check[] = []
  const requests: ProbeRequest[] = []
  for (const from of clusters) {
    const apiTo = secretSources(clusters, from)
    const gwPeers = clusters.filter((c) => c.network !== from.network && ctx.states.get(c.name)?.gateway?.address)
    // Ambient's east-west gateway listens for HBONE on 15008 (mTLS with a mesh identity), not 15443: the probe's
    // SNI-less TLS handshake there tests nothing it could classify, so those checks are skipped, said so.
    const ambient = ctx.config.dataPlane === 'ambient'
    if (ambient) for (const to of gwPeers) skips.push(hboneSkip(from.name, to.name))
    const gwTo = ambient ? [] : gwPeers
    if (!ctx.states.has(from.name)) {
      // No probe pod can be started where the runner cannot write.
      for (const to of apiTo) skips.push(skip('api-server-reachable', from.name, to.name))
      for (const to of gwTo) skips.push(skip('gateway-reachable', from.name, to.name))
      continue
    }
    const apiServers: ApiServerTarget[] = []
    for (const to of apiTo) apiServers.push(await apiServerTarget(ctx, from.name, to.name, to.apiServer))
    const gateways: GatewayTarget[] = gwTo.map((to) => ({
      to: to.name,
      host: ctx.states.get(to.name)!.gateway!.address!
    }))
    requests.push({ from: from.name, apiServers, gateways })
  }
  const results = await runProbes(
    ctx.tools,
    requests,
    { image: ctx.config.probeImage, timeoutMs: VERIFY_PROBE_TIMEOUT_MS },
    ctx.log
  )
  // Without a token (no remote secret yet) a 401 or 403 is the API server's own answer: it was reached.
  const tokenless = new Set(
    requests.flatMap((r) => r.apiServers.filter((t) => !t.token).map((t) => `${r.from}/${t.to}`))
  )
  const judged = results.map((r) =>
    r.target === 'api-server' &&
    tokenless.has(`${r.from}/${r.to}`) &&
    (r.status === 'unauthorized' || r.status === 'forbidden')
      ? { ...r, status: 'ok' as const, detail: `${r.detail}; no remote secret yet, so no token was sent` }
      : r
  )
  ctx.probes?.push(...judged)
  return [...probeChecks(judged), ...skips]
}

const skip = (check: string, from: string, to: string): Check => ({
  id: `${check}/${from}/${to}`,
  status: 'skip',
  cluster: from,
  message: `not checked: the runner cannot read ${from} (see api-server-from-runner/${from})`
})

const hboneSkip = (from: string, to: string): Check => ({
  id: `gateway-reachable/${from}/${to}`,
  status: 'skip',
  cluster: from,
  message: `not probed: with data-plane ambient, ${to}'s east-west gateway takes HBONE on port 15008 (mTLS with a mesh identity), which the probe pod cannot test; verify: traffic does`
})

/** The remote secret `from` holds for `to`, as istiod reads it; else what create-remote-secret would write. */
async function apiServerTarget(
  ctx: CheckContext,
  from: string,
  to: string,
  apiServer: string | undefined
): Promise<ApiServerTarget> {
  const held = ctx.states.get(from)?.remoteSecrets.find((s) => s.cluster === to)
  if (held) {
    const json = await kubectl
      .getJson(
        ctx.tools,
        from,
        { resource: 'secret', names: [held.name], namespace: ISTIO_NAMESPACE, ignoreNotFound: true },
        ctx.log,
        { quiet: true, policy: kubectl.HINT }
      )
      .catch(() => '')
    const target = json ? apiServerTargetFromRemoteSecret(json) : undefined
    if (target) return target
  }
  const kc = kubeconfigCluster(ctx.tools.kubeconfigPath, to)
  return {
    to,
    url: apiServer ?? kc.server ?? '',
    ...(kc.caPem ? { caPem: kc.caPem } : {}),
    ...(kc.insecure ? { insecure: true } : {})
  }
}

/** The server and CA of a context in the action's kubeconfig (contexts are named by cluster). */
function kubeconfigCluster(path: string, context: string): { server?: string; caPem?: string; insecure?: boolean } {
  try {
    const kc = yaml.load(readFileSync(path, 'utf8'), { schema: yaml.JSON_SCHEMA }) as any
    const name = (kc?.contexts ?? []).find((c: any) => c?.name === context)?.context?.cluster
    const cluster = (kc?.clusters ?? []).find((c: any) => c?.name === name)?.cluster ?? {}
    const data = cluster['certificate-authority-data']
    const file = cluster['certificate-authority']
    const caPem = data
      ? Buffer.from(String(data), 'base64').toString('utf8')
      : file
        ? readFileSync(String(file), 'utf8')
        : undefined
    return { server: cluster.server, caPem, insecure: cluster['insecure-skip-tls-verify'] === true }
  } catch {
    return {}
  }
}
