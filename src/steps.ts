import * as core from '@actions/core'
import { Config, DEFAULT_HUB } from './config.js'
import { StepError } from './errors.js'
import { goDuration, installLimitMs, isReadinessFailure, unreadyPods } from './istioctl/readiness.js'
import { retiredRegistryOf } from './registries.js'
import { ISTIO_NAMESPACE } from './manifests/kubernetes.js'
import { Step } from './plan.js'
import { StepExecutor } from './runner.js'
import { redact, registerSecret } from './secrets.js'
import { ClusterTools, CommandError, StepLog } from './tools.js'
import { waitForGatewayAddress } from './kube/gateway.js'
import { isLoopbackServer, parseRemoteSecret } from './kube/remote-secret.js'
import { TrustManager } from './trust/trust.js'
import { RemoteStatus, VerifyError, waitForRemoteClusters } from './verify.js'
import { verifyTraffic } from './verify-traffic.js'

/** What steps hand to each other during one run; held in memory only (remote secrets are credentials). */
export interface RunState {
  remoteSecrets: Map<string, { yaml: string; server: string }>
  remoteStatus: Map<string, Map<string, RemoteStatus>>
}

export interface ExecutorDeps {
  config: Config
  tools: ClusterTools
  trust?: TrustManager
  state: RunState
}

/** Commands other than istioctl install (whose limit follows its readiness waits: installLimitMs). */
const INSTALL_TIMEOUT_MS = 7 * 60_000
const KUBECTL_TIMEOUT_MS = 2 * 60_000

export function stepExecutor(deps: ExecutorDeps): StepExecutor {
  const { tools, state } = deps
  return async (step: Step, log: StepLog): Promise<string | void> => {
    const a = step.action
    switch (a.type) {
      case 'apply':
        await tools.kubectl(step.cluster, ['apply', '-f', '-'], log, { stdin: a.manifest, retry: true, timeoutMs: KUBECTL_TIMEOUT_MS })
        return
      case 'root-of-trust':
        if (!deps.trust) throw new Error('root of trust step without a trust manager')
        return deps.trust.ensure(step.cluster, log)
      case 'istioctl-install':
        return istioctlInstall(deps, step, a.iop, a.readinessWaits, log)
      case 'wait-gateway-address':
        return waitForGatewayAddress(tools, step.cluster, a.timeoutMs, log)
      case 'create-remote-secret':
        return createRemoteSecret(deps, step, a.server, log)
      case 'apply-remote-secrets': {
        const docs = a.sources.map((s) => state.remoteSecrets.get(s)?.yaml)
        if (docs.some((d) => d === undefined)) throw new Error('a remote secret it needs was not created')
        await tools.kubectl(step.cluster, ['apply', '-f', '-'], log, { stdin: docs.join('\n---\n'), retry: true, timeoutMs: KUBECTL_TIMEOUT_MS })
        return
      }
      case 'verify-remote-clusters':
        return verifyRemoteClusters(deps, step, a.peers, a.timeoutMs, log)
      case 'verify-traffic':
        return verifyTraffic(tools, step.cluster, a.versions, a.timeoutMs, log)
      case 'command':
        await (a.tool === 'kubectl'
          ? tools.kubectl(step.cluster, a.args, log, { retry: true, timeoutMs: INSTALL_TIMEOUT_MS })
          : tools.istioctl(step.cluster, a.args, log, { retry: true, timeoutMs: INSTALL_TIMEOUT_MS }))
        return
      case 'delete-namespace':
        await tools.kubectl(step.cluster, ['delete', 'namespace', a.namespace, '--ignore-not-found', '--wait=false'], log, {
          retry: true,
          timeoutMs: KUBECTL_TIMEOUT_MS
        })
        return
    }
  }
}

/** istioctl install with an explicit --readiness-timeout; when its wait fails, what kubectl says about each unready pod. */
async function istioctlInstall(deps: ExecutorDeps, step: Step, iop: string, waits: number, log: StepLog): Promise<void> {
  const { readinessTimeoutMs } = deps.config
  const args = ['install', '-y', '-f', '-', '--readiness-timeout', goDuration(readinessTimeoutMs)]
  try {
    await deps.tools.istioctl(step.cluster, args, log, { stdin: iop, retry: true, timeoutMs: installLimitMs(readinessTimeoutMs, waits) })
  } catch (e) {
    if (!(e instanceof CommandError) || e.result.timedOut || !isReadinessFailure(e.result.stderr)) throw e
    const pods = await deps.tools
      .kubectl(step.cluster, ['get', 'pods', '-n', ISTIO_NAMESPACE, '-o', 'json'], log, { timeoutMs: 30_000 })
      .then((r) => unreadyPods(r.stdout))
      .catch((err: unknown) => [`(kubectl get pods failed: ${err instanceof CommandError ? err.headline : String(err)})`])
    const retired = [...new Set(pods.map((p) => /\(image ([^)\s]+)\)/.exec(p)?.[1]).flatMap((img) => (img && retiredRegistryOf(img)) || []))]
    const hint = retired.length
      ? `\n${retired.join(', ')} ${retired.length > 1 ? 'are registries' : 'is one of the registries'} Istio retired in December 2026; set "hub" to ${DEFAULT_HUB} or a mirror of it.`
      : ''
    const unready = pods.length ? `\nunready pods in ${ISTIO_NAMESPACE}:\n${pods.map((p) => `- ${p}`).join('\n')}` : ''
    throw new StepError(step.cluster, step.title, `${e.headline}${redact(unready)}${hint}`, e.command, e.stderrTail)
  }
}

async function createRemoteSecret(deps: ExecutorDeps, step: Step, server: string | undefined, log: StepLog): Promise<string> {
  const args = ['create-remote-secret', '--name', step.cluster, ...(server ? ['--server', server] : [])]
  const r = await deps.tools.istioctl(step.cluster, args, log, { retry: true, secretOutput: true, timeoutMs: KUBECTL_TIMEOUT_MS })
  const info = parseRemoteSecret(r.stdout)
  // Mask the reader token before anything else can print it.
  registerSecret(info.token)
  if (info.cluster !== step.cluster) throw new Error(`create-remote-secret wrote a secret for "${info.cluster}", expected "${step.cluster}"`)
  deps.state.remoteSecrets.set(step.cluster, { yaml: info.manifest, server: info.server })
  if (!server && isLoopbackServer(info.server))
    core.warning(
      `${step.cluster}: its remote secret points at ${info.server}, a loopback address other clusters cannot reach (kind?). Set "api-server" for ${step.cluster} to an address they can reach, e.g. https://${step.cluster}-control-plane:6443 on kind.`
    )
  return info.server
}

async function verifyRemoteClusters(deps: ExecutorDeps, step: Step, peers: string[], timeoutMs: number, log: StepLog): Promise<string> {
  try {
    const statuses = await waitForRemoteClusters(deps.tools, step.cluster, peers, timeoutMs, log)
    deps.state.remoteStatus.set(step.cluster, statuses)
    return peers.map((p) => `${p}: ${statuses.get(p)}`).join(', ')
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e
    deps.state.remoteStatus.set(step.cluster, e.statuses)
    const hints = e.missing.map((peer) => {
      const server = deps.state.remoteSecrets.get(peer)?.server ?? '(unknown)'
      const loop = isLoopbackServer(server)
      return `- ${peer} → ${step.cluster}: istiod in ${step.cluster} cannot reach ${peer}'s API server at ${server}${loop ? ' (a loopback address: it only exists on the runner)' : ''}; set "api-server" for ${peer} to an address reachable from ${step.cluster}, and check that its token is valid.`
    })
    throw new Error(`${e.message}\n${hints.join('\n')}`)
  }
}
