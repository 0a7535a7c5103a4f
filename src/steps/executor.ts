import * as core from '@actions/core'
import { Config, DEFAULT_HUB } from '../config/index.js'
import { StepError, assertNever } from '../errors.js'
import { ISTIOD_SELECTOR, ISTIO_NAMESPACE, MANAGED_BY, REVISION_LABEL } from '../istio-names.js'
import * as istioctl from '../istioctl/commands.js'
import { isReadinessFailure, unreadyPods } from '../istioctl/readiness.js'
import { retiredRegistryOf } from '../retired-registries.js'
import { Step } from './step.js'
import { StepExecutor } from '../runner.js'
import { redact, registerSecret } from '../secrets.js'
import { ClusterTools, CommandError, StepLog } from '../tools.js'
import { waitForGatewayAddress } from '../kube/gateway.js'
import { removeOwnGatewayApiCrds } from '../kube/gateway-api.js'
import { istiodsNeedingRestart, listIstiods, restartIstiods } from '../kube/istiod.js'
import * as kubectl from '../kube/kubectl.js'
import { isLoopbackServer, parseRemoteSecret } from '../kube/remote-secret.js'
import { withRemotePilotAddress } from '../manifests/remote.js'
import { TrustManager } from '../trust/trust.js'
import { RemoteStatus, VerifyError, waitForRemoteClusters } from '../verify.js'
import { verifyTraffic } from '../verify-traffic.js'
import { explainTraffic } from '../traffic-explain.js'
import { explainUnsynced } from '../verify-probes.js'
import { ProbeResult } from '../probes/types.js'
import { GatewayProbeError, waitForGatewayForwarding } from '../probes/gateway-forwarding.js'

/** What steps hand to each other during one run; held in memory only (remote secrets are credentials). */
export interface RunState {
  remoteSecrets: Map<string, { yaml: string; server: string }>
  remoteStatus: Map<string, Map<string, RemoteStatus>>
  /** What the probe pods found, when a check ran them (issue 14): for the summary and the diagnostics. */
  probes?: ProbeResult[]
  /** Per cluster, what the traffic check's client proxy was given (istioctl proxy-config endpoint JSON). */
  proxyEndpoints?: Map<string, string>
  /** Per cluster, its east-west gateway's address once its gateway-address step has it (the probes' targets). */
  gatewayAddresses?: Map<string, string>
  /** Ids of the steps that succeeded so far (a `remove-unclaimed` cleanup asks). */
  succeeded?: Set<string>
}

export interface ExecutorDeps {
  config: Config
  tools: ClusterTools
  trust?: TrustManager
  state: RunState
}

export function stepExecutor(deps: ExecutorDeps): StepExecutor {
  const { tools } = deps
  const execute = async (step: Step, log: StepLog): Promise<string | void> => {
    const a = step.action
    switch (a.type) {
      case 'apply':
        await kubectl.apply(tools, step.cluster, a.manifest, log)
        return
      case 'apply-if-missing':
        return applyIfMissing(deps, step, a.probe, a.manifest, log)
      case 'delete-if-served':
        return kubectl.deleteObjects(tools, step.cluster, a.target, log).catch((e: unknown) => {
          if (e instanceof CommandError && kubectl.isNotServed(e.result.stderr))
            return `${a.target.resource}: not served`
          throw e
        })
      case 'root-of-trust':
        if (!deps.trust) throw new Error('root of trust step without a trust manager')
        return deps.trust.ensure(step.cluster, log)
      case 'istioctl-install':
        return istioctlInstall(deps, step, a.iop, a.readinessWaits, log)
      case 'istioctl-install-remote': {
        // The primary's gateway-address step has finished: its address is there, this only reads it.
        const address = await waitForGatewayAddress(tools, a.primary, a.timeoutMs, log)
        log(`remotePilotAddress: ${address} (${a.primary}'s east-west gateway)`)
        // The chart makes a host name an ExternalName Service (remote-istiod-service.yaml@1.30.3); istio.io's page
        // calls primaries behind host-name load balancers (AWS) unsuitable.
        if (!/^[\d.]+$|:/.test(address))
          core.warning(
            `${step.cluster}: ${a.primary}'s east-west gateway has a host name (${address}), not an IP; istio.io's "Install Primary-Remote" says such primaries (AWS load balancers) are not suitable for a remote. Give the gateway an IP (e.g. an NLB with static addresses) if injection or xDS fails in ${step.cluster}.`
          )
        await istioctlInstall(deps, step, withRemotePilotAddress(a.iop, address), a.readinessWaits, log)
        return `served by ${a.primary} at ${address}`
      }
      case 'wait-gateway-address': {
        const address = await waitForGatewayAddress(tools, step.cluster, a.timeoutMs, log)
        ;(deps.state.gatewayAddresses ??= new Map()).set(step.cluster, address)
        return address
      }
      case 'wait-gateway-forwarding':
        return gatewayForwarding(deps, step, a.peers, a.timeoutMs, log)
      case 'create-remote-secret':
        return createRemoteSecret(deps, step, a.server, log)
      case 'apply-remote-secrets':
        return applyRemoteSecrets(deps, step, a.sources, log)
      case 'verify-remote-clusters':
        return verifyRemoteClusters(deps, step, a.peers, a.timeoutMs, log)
      case 'verify-traffic':
        return explainedTraffic(deps, step, a.versions, a.timeoutMs, log)
      case 'delete':
        return kubectl.deleteObjects(tools, step.cluster, a.target, log)
      case 'delete-namespace':
        return kubectl.deleteNamespace(tools, step.cluster, a.namespace, a.wait ?? false, log)
      case 'istioctl-uninstall':
        return istioctl.uninstall(tools, step.cluster, log)
      case 'remove-own-gateway-api-crds':
        return removeOwnGatewayApiCrds(tools, step.cluster, log)
      case 'server-side-apply':
        await kubectl.serverSideApply(tools, step.cluster, a.manifest, a.fieldManager, log)
        return
      case 'none':
        return a.value
      case 'remove-unclaimed':
        return removeUnclaimed(deps, step, a, log)
      default:
        return assertNever(a)
    }
  }
  return async (step, log) => {
    const value = await execute(step, log)
    ;(deps.state.succeeded ??= new Set()).add(step.id)
    return value
  }
}

/**
 * A cleanup: deletes what this run created early (the gateway's Service, and with it a billed load balancer) unless
 * the step that would have taken it over succeeded. Either outcome is said: a warning when it goes, an error naming
 * the object, the cluster and the command to run when it cannot be deleted.
 */
async function removeUnclaimed(
  deps: ExecutorDeps,
  step: Step,
  a: Extract<Step['action'], { type: 'remove-unclaimed' }>,
  log: StepLog
): Promise<string | void> {
  const { resource, names = [], namespace } = a.target
  const what = `${resource} ${names.join(', ')}${namespace ? ` in ${namespace}` : ''}`
  const lb = resource === 'service' ? ' and its load balancer' : ''
  if (deps.state.succeeded?.has(a.unless)) {
    log(`kept ${what}: ${a.unless} succeeded and owns it`)
    return
  }
  try {
    const removed = await kubectl.deleteIfPresent(deps.tools, step.cluster, a.target, log)
    const said = removed ? `removed ${what}${lb}: ${a.reason}` : `${what} is not there (nothing to remove): ${a.reason}`
    if (removed) core.warning(`${step.cluster}: ${said}`)
    return said
  } catch (e) {
    if (!(e instanceof CommandError)) throw e
    const by = `kubectl --context ${step.cluster}${namespace ? ` -n ${namespace}` : ''} delete ${resource} ${names.join(' ')}`
    throw new StepError(
      step.cluster,
      step.title,
      `${what} is still there${lb ? ', and so is its load balancer (billed)' : ''}: ${a.reason}, and deleting it failed: ${e.headline}. Delete it: ${by}`,
      e.command,
      e.stderrTail
    )
  }
}

/** The page's `kubectl get crd … || kubectl apply`: what is there already (another version, maybe) is left alone. */
async function applyIfMissing(
  deps: ExecutorDeps,
  step: Step,
  probe: { resource: string; name: string },
  manifest: string,
  log: StepLog
): Promise<string> {
  const q = { resource: probe.resource, names: [probe.name], ignoreNotFound: true }
  const found = await kubectl.getNames(deps.tools, step.cluster, q, log)
  if (found.length) return `kept (${probe.name} exists)`
  // Server-side, as the Gateway API's install guide applies its CRDs (site-src/guides/getting-started @v1.5.1): a
  // client-side apply copies each into the last-applied annotation, 244 KB for httproutes of a 256 KiB limit.
  const applied = await kubectl.serverSideApply(deps.tools, step.cluster, manifest, MANAGED_BY, log)
  return `installed ${applied.split('\n').filter((l) => l.trim()).length} objects`
}

/** istioctl install with an explicit --readiness-timeout; when its wait fails, what kubectl says about each unready pod. */
async function istioctlInstall(
  deps: ExecutorDeps,
  step: Step,
  iop: string,
  waits: number,
  log: StepLog
): Promise<void> {
  try {
    await istioctl.install(deps.tools, step.cluster, iop, { timeoutMs: deps.config.readinessTimeoutMs, waits }, log)
  } catch (e) {
    if (!(e instanceof CommandError) || e.result.timedOut || !isReadinessFailure(e.result.stderr)) throw e
    const pods = await kubectl
      .getJson(deps.tools, step.cluster, { resource: 'pods', namespace: ISTIO_NAMESPACE }, log, {
        policy: kubectl.HINT
      })
      .then(unreadyPods)
      .catch((err: unknown) => [
        `(kubectl get pods failed: ${err instanceof CommandError ? err.headline : String(err)})`
      ])
    const retired = [
      ...new Set(
        pods.map((p) => /\(image ([^)\s]+)\)/.exec(p)?.[1]).flatMap((img) => (img && retiredRegistryOf(img)) || [])
      )
    ]
    const hint = retired.length
      ? `\n${retired.join(', ')} ${retired.length > 1 ? 'are registries' : 'is one of the registries'} Istio retired in December 2026; set "hub" to ${DEFAULT_HUB} or a mirror of it.`
      : ''
    const unready = pods.length ? `\nunready pods in ${ISTIO_NAMESPACE}:\n${pods.map((p) => `- ${p}`).join('\n')}` : ''
    throw new StepError(step.cluster, step.title, `${e.headline}${redact(unready)}${hint}`, e.command, e.stderrTail)
  }
}

async function createRemoteSecret(
  deps: ExecutorDeps,
  step: Step,
  server: string | undefined,
  log: StepLog
): Promise<string> {
  const output = await istioctl.createRemoteSecret(deps.tools, step.cluster, server, log)
  const info = parseRemoteSecret(output)
  // Mask the reader token before anything else can print it.
  registerSecret(info.token)
  if (info.cluster !== step.cluster)
    throw new Error(`create-remote-secret wrote a secret for "${info.cluster}", expected "${step.cluster}"`)
  deps.state.remoteSecrets.set(step.cluster, { yaml: info.manifest, server: info.server })
  if (!server && isLoopbackServer(info.server))
    core.warning(
      `${step.cluster}: its remote secret points at ${info.server}, a loopback address other clusters cannot reach (kind?). Set "api-server" for ${step.cluster} to an address they can reach, e.g. https://${step.cluster}-control-plane:6443 on kind.`
    )
  return info.server
}

/**
 * Applies the other clusters' remote secrets. When one of them *changed* (kubectl says "configured": a cluster
 * re-created under the same name, a new api-server, a rotated reader token), istiods of releases that keep a stale
 * view of the remote cluster after such an update are restarted, as Istio's issues advise. The plan orders this step
 * after the cluster's own control plane, so the istiods read here are the ones that stay.
 */
async function applyRemoteSecrets(
  deps: ExecutorDeps,
  step: Step,
  sources: string[],
  log: StepLog
): Promise<string | void> {
  const docs = sources.map((s) => deps.state.remoteSecrets.get(s)?.yaml)
  if (docs.some((d) => d === undefined)) throw new Error('a remote secret it needs was not created')
  const applied = await kubectl.apply(deps.tools, step.cluster, docs.join('\n---\n'), log)
  const changed = [...applied.matchAll(/^secret\/(\S+) configured$/gm)].map((m) => m[1])
  if (!changed.length) return
  const stale = istiodsNeedingRestart(await listIstiods(deps.tools, step.cluster, log))
  if (!stale.length) return
  for (const s of stale) log(`${changed.join(', ')} changed; restarting ${s.name} (Istio ${s.reason})`)
  await restartIstiods(
    deps.tools,
    step.cluster,
    stale.map((s) => s.name),
    'the remote secrets are in place; istiod reads them once its new pods are ready',
    log
  )
  return `restarted ${stale.map((s) => s.name).join(', ')} after ${changed.join(', ')} changed`
}

async function verifyRemoteClusters(
  deps: ExecutorDeps,
  step: Step,
  peers: string[],
  timeoutMs: number,
  log: StepLog
): Promise<string> {
  // The control plane this run installed: without --revision istioctl would ask the default tag's istiods.
  const revision = deps.config.revision ?? 'default'
  try {
    const seen = await waitForRemoteClusters(deps.tools, step.cluster, peers, timeoutMs, log, { revision })
    deps.state.remoteStatus.set(step.cluster, seen.statuses)
    return `${peers.map((p) => `${p}: ${seen.statuses.get(p)}`).join(', ')} (in ${seen.istiods.join(', ')}, revision ${revision})`
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e
    deps.state.remoteStatus.set(step.cluster, e.seen.statuses)
    // Reachability hints only where istiod is (or was) trying to read the peer's API server.
    const unreached = e.missing.filter((peer) =>
      e.problems.some((p) => p.peer === peer && (p.status === 'timeout' || p.status === 'syncing'))
    )
    // Probe pods in this cluster test what istiod cannot: the cause and the fix first.
    const probed = unreached.length
      ? await explainUnsynced(deps.tools, deps.config, step.cluster, unreached, deps.state.remoteSecrets, log)
      : undefined
    if (probed?.results.length) deps.state.probes = [...(deps.state.probes ?? []), ...probed.results]
    if (probed?.causes.length) throw new Error([...probed.causes, e.message].join('\n'))
    const hints = unreached.map((peer) => {
      const server = deps.state.remoteSecrets.get(peer)?.server ?? '(unknown)'
      const loop = isLoopbackServer(server)
      return `- ${peer} → ${step.cluster}: istiod in ${step.cluster} cannot reach ${peer}'s API server at ${server}${loop ? ' (a loopback address: it only exists on the runner)' : ''}; set "api-server" for ${peer} to an address reachable from ${step.cluster}, and check that its token is valid.`
    })
    if (!e.problems.length)
      hints.push(
        `- is istiod of revision ${revision} running in ${step.cluster}? kubectl -n ${ISTIO_NAMESPACE} get pods -l ${ISTIOD_SELECTOR},${REVISION_LABEL}=${revision}`
      )
    throw new Error([e.message, ...hints, ...(probed?.notes ?? [])].join('\n'))
  }
}

/** The gateway's address forwards to it from every peer on another network (probe pods in the peers). */
async function gatewayForwarding(
  deps: ExecutorDeps,
  step: Step,
  peers: string[],
  timeoutMs: number,
  log: StepLog
): Promise<string> {
  try {
    const r = await waitForGatewayForwarding(
      deps.tools,
      step.cluster,
      peers,
      { timeoutMs, image: deps.config.probeImage, addresses: deps.state.gatewayAddresses },
      log
    )
    deps.state.probes = [...(deps.state.probes ?? []), ...r.results]
    return r.summary
  } catch (e) {
    if (e instanceof GatewayProbeError) deps.state.probes = [...(deps.state.probes ?? []), ...e.results]
    throw e
  }
}

/** The traffic check; when it fails, what the client's proxy was given says why, first (traffic-explain.ts). */
async function explainedTraffic(
  deps: ExecutorDeps,
  step: Step,
  versions: string[],
  timeoutMs: number,
  log: StepLog
): Promise<string> {
  try {
    return await verifyTraffic(deps.tools, step.cluster, versions, timeoutMs, log)
  } catch (e) {
    if (!(e instanceof Error) || e instanceof CommandError) throw e
    const peers = deps.config.clusters.map((c) => c.name).filter((n) => n !== step.cluster)
    const why = await explainTraffic(deps.tools, step.cluster, peers, { probeImage: deps.config.probeImage }, log)
    if (why.probes.length) deps.state.probes = [...(deps.state.probes ?? []), ...why.probes]
    if (why.endpointsJson !== undefined)
      deps.state.proxyEndpoints = new Map([...(deps.state.proxyEndpoints ?? []), [step.cluster, why.endpointsJson]])
    if (!why.lines.length) throw e
    throw new Error([...why.lines, e.message].join('\n'))
  }
}
