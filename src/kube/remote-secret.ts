import * as yaml from 'js-yaml'
import { CLUSTER_ANNOTATION } from '../istio-names.js'
import { toYaml, withEncodedData } from '../manifests/kubernetes.js'

export interface RemoteSecretInfo {
  /** The Secret to apply, re-serialized with `data` so that a re-run is "unchanged". */
  manifest: string
  secretName: string
  /** The cluster the secret gives access to (its `networking.istio.io/cluster` annotation). */
  cluster: string
  server: string
  token?: string
}

/**
 * Reads what `istioctl create-remote-secret` printed, without ever echoing it: only shape errors are reported,
 * so the caller can mask the token before anything else happens.
 */
export function parseRemoteSecret(output: string): RemoteSecretInfo {
  let docs: unknown[]
  try {
    docs = yaml.loadAll(output, null, { schema: yaml.JSON_SCHEMA }).filter((d) => d != null)
  } catch {
    throw new Error('create-remote-secret printed something that is not YAML')
  }
  const secret = docs.find((d): d is Record<string, any> => typeof d === 'object' && (d as any)?.kind === 'Secret')
  if (!secret) throw new Error('create-remote-secret printed no Secret')
  const cluster = secret.metadata?.annotations?.[CLUSTER_ANNOTATION]
  const embedded =
    secret.stringData?.[cluster] ?? Object.values((secret.stringData ?? {}) as Record<string, unknown>)[0]
  if (typeof cluster !== 'string' || typeof embedded !== 'string')
    throw new Error(
      `create-remote-secret printed a Secret without the ${CLUSTER_ANNOTATION} annotation or its kubeconfig`
    )
  let kc: any
  try {
    kc = yaml.load(embedded, { schema: yaml.JSON_SCHEMA })
  } catch {
    throw new Error('the remote secret holds a kubeconfig that is not YAML')
  }
  return {
    manifest: toYaml(withEncodedData(secret)),
    secretName: String(secret.metadata?.name ?? ''),
    cluster,
    server: String(kc?.clusters?.[0]?.cluster?.server ?? ''),
    token: typeof kc?.users?.[0]?.user?.token === 'string' ? kc.users[0].user.token : undefined
  }
}

/** Loopback addresses in a remote secret are only reachable from the machine that ran istioctl (kind, port-forwards). */
export function isLoopbackServer(server: string): boolean {
  try {
    const host = new URL(server).hostname.replace(/^\[|\]$/g, '')
    return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '0.0.0.0'
  } catch {
    return false
  }
}
