// Where the probe targets come from: a remote secret (the address, CA and token istiod uses) and a gateway Service.
import * as yaml from 'js-yaml'
import { CLUSTER_ANNOTATION, EASTWEST_GATEWAY, ISTIO_NAMESPACE } from '../istio-names.js'
import * as kubectl from '../kube/kubectl.js'
import { ApiServerTarget } from '../manifests/probe.js'
import { registerSecret } from '../secrets.js'
import { ClusterTools, StepLog } from '../tools.js'

/**
 * The API server a remote secret (its manifest, `data` or `stringData`) lets istiod reach: the kubeconfig's current
 * context's server, CA and token. Undefined when it holds no usable kubeconfig. The token is registered as a secret.
 */
export function apiServerTargetFromRemoteSecret(manifest: string): ApiServerTarget | undefined {
  let secret: any
  try {
    secret = yaml.load(manifest, { schema: yaml.JSON_SCHEMA })
  } catch {
    return undefined
  }
  const to = secret?.metadata?.annotations?.[CLUSTER_ANNOTATION]
  const encoded = secret?.data?.[to]
  const text =
    secret?.stringData?.[to] ?? (encoded ? Buffer.from(String(encoded), 'base64').toString('utf8') : undefined)
  if (typeof to !== 'string' || typeof text !== 'string') return undefined
  let kc: any
  try {
    kc = yaml.load(text, { schema: yaml.JSON_SCHEMA })
  } catch {
    return undefined
  }
  const ctx = (kc?.contexts ?? []).find((c: any) => c?.name === kc?.['current-context'])?.context ?? {}
  const cluster = ((kc?.clusters ?? []).find((c: any) => c?.name === ctx.cluster) ?? kc?.clusters?.[0])?.cluster
  const user = ((kc?.users ?? []).find((u: any) => u?.name === ctx.user) ?? kc?.users?.[0])?.user
  if (typeof cluster?.server !== 'string') return undefined
  const token: string | undefined = typeof user?.token === 'string' ? (user.token as string) : undefined
  registerSecret(token)
  const ca = cluster['certificate-authority-data']
  return {
    to,
    url: cluster.server,
    ...(ca ? { caPem: Buffer.from(String(ca), 'base64').toString('utf8') } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecure: true } : {}),
    ...(token ? { token } : {})
  }
}

/** The east-west gateway's load-balancer address in `cluster` (IP or host name), or undefined without one. */
export async function gatewayAddress(tools: ClusterTools, cluster: string, log: StepLog): Promise<string | undefined> {
  const svc = JSON.parse(
    (await kubectl.getJson(
      tools,
      cluster,
      { resource: 'services', names: [EASTWEST_GATEWAY], namespace: ISTIO_NAMESPACE, ignoreNotFound: true },
      log,
      { quiet: true, policy: kubectl.HINT }
    )) || '{}'
  )
  const ingress: { ip?: string; hostname?: string } | undefined = svc?.status?.loadBalancer?.ingress?.[0]
  return ingress?.ip || ingress?.hostname || undefined
}
