// The istioctl commands the action runs against a cluster, each building its own arguments with its own time limit
// and retry policy, on ClusterTools (and so on exec.ts). Not to be confused with download.ts, which fetches istioctl.
import { ISTIO_NAMESPACE } from '../istio-names.js'
import { ClusterTools, StepLog } from '../tools.js'
import { goDuration, installLimitMs } from './readiness.js'

const REMOTE_SECRET_TIMEOUT_MS = 2 * 60_000
/** uninstall --purge removes every revision, the CRDs and the webhooks, and waits for them. */
const UNINSTALL_TIMEOUT_MS = 7 * 60_000

/**
 * `istioctl install -y -f -` with the IstioOperator on stdin and an explicit --readiness-timeout; the process limit
 * follows istioctl's readiness waits one after another (installLimitMs), so istioctl gives up, and says why, first.
 */
export async function install(
  tools: ClusterTools,
  cluster: string,
  iop: string,
  readiness: { timeoutMs: number; waits: number },
  log: StepLog
): Promise<void> {
  const args = ['install', '-y', '-f', '-', '--readiness-timeout', goDuration(readiness.timeoutMs)]
  await tools.istioctl(cluster, args, log, {
    stdin: iop,
    retry: true,
    timeoutMs: installLimitMs(readiness.timeoutMs, readiness.waits)
  })
}

/**
 * `istioctl create-remote-secret --name <cluster>`: the Secret (with the reader's token) that lets other clusters'
 * istiods read this one, never logged. `server` overrides the API server address the kubeconfig has.
 */
export async function createRemoteSecret(
  tools: ClusterTools,
  cluster: string,
  server: string | undefined,
  log: StepLog
): Promise<string> {
  // Without -n, istioctl writes the secret into the namespace of $KUBECONFIG's current context when it names one
  // (istioctl/pkg/multicluster/options.go), and istiod reads remote secrets only in its own namespace.
  const args = [
    'create-remote-secret',
    '--name',
    cluster,
    '-n',
    ISTIO_NAMESPACE,
    ...(server ? ['--server', server] : [])
  ]
  const r = await tools.istioctl(cluster, args, log, {
    retry: true,
    secretOutput: true,
    timeoutMs: REMOTE_SECRET_TIMEOUT_MS
  })
  return r.stdout
}

/**
 * `istioctl remote-clusters --revision <revision>`: the table of what each istiod pod of that revision makes of each
 * cluster. One call is bounded by the time left before `deadline`, within 10 s to 60 s.
 */
export async function remoteClusters(
  tools: ClusterTools,
  cluster: string,
  revision: string,
  deadline: number,
  log: StepLog
): Promise<string> {
  const timeoutMs = Math.max(10_000, Math.min(60_000, deadline - Date.now()))
  return (await tools.istioctl(cluster, ['remote-clusters', '--revision', revision], log, { timeoutMs, retry: true }))
    .stdout
}

/** `istioctl uninstall -y --purge`: Istio of every revision, its CRDs and webhooks. */
export async function uninstall(tools: ClusterTools, cluster: string, log: StepLog): Promise<void> {
  await tools.istioctl(cluster, ['uninstall', '-y', '--purge'], log, { retry: true, timeoutMs: UNINSTALL_TIMEOUT_MS })
}

/**
 * `istioctl proxy-config endpoint <pod>.<namespace> --cluster <envoy cluster> -o json`: the endpoints istiod sent that
 * pod's Envoy for one outbound cluster (Envoy's /clusters, istioctl/pkg/proxyconfig). Data: only its size is logged.
 */
export async function proxyEndpoints(
  tools: ClusterTools,
  cluster: string,
  pod: { name: string; namespace: string },
  envoyCluster: string,
  log: StepLog
): Promise<string> {
  const args = ['proxy-config', 'endpoint', `${pod.name}.${pod.namespace}`, '--cluster', envoyCluster, '-o', 'json']
  return (await tools.istioctl(cluster, args, log, { timeoutMs: 30_000, retry: true, quiet: true })).stdout
}
