// Runs the probes (issue 14): in each cluster that probes, a namespace of its own with a Secret (the targets, CAs
// and tokens) and a Job whose pod tests every target; reads the pod's log, classifies it, removes the namespace.
// Per probing cluster on success: apply, `kubectl wait` for the Job's Complete, `kubectl logs job/probe`, delete.
// Not `kubectl logs --follow` at once: until the container runs, the kubelet answers 400 "is waiting to start"
// (pkg/kubelet/kubelet_pods.go@v1.32.0 validateContainerLogStatus) and kubectl logs does not retry that
// (staging/src/k8s.io/kubectl/pkg/cmd/logs/logs.go@v1.32.0: GetFirstPod returns any pod of the Job, of any phase).
import { randomBytes } from 'node:crypto'
import { isStopping } from '../exec.js'
import * as kubectl from '../kube/kubectl.js'
import { toYaml } from '../manifests/kubernetes.js'
import { ApiServerTarget, GatewayTarget, PROBE_NAMESPACE_PREFIX, probeObjects } from '../manifests/probe.js'
import { registerSecret } from '../secrets.js'
import { ClusterTools, CommandError, StepLog } from '../tools.js'
import { parseProbeLog, probeResults } from './classify.js'
import { ProbeResult } from './types.js'
import { trackProbeNamespace, untrackProbeNamespace } from './leftovers.js'

/** What one cluster probes: the API servers (as their remote secrets name them) and gateways of other clusters. */
export interface ProbeRequest {
  from: string
  apiServers: ApiServerTarget[]
  gateways: GatewayTarget[]
}

export interface ProbeOptions {
  /** The probe pod's image: POSIX sh and curl ≥ 7.55 (the default is the traffic check's curl image). */
  image: string
  /** For all of it: apply, the pod's run, the log. What is not done by then is an `error` result. */
  timeoutMs: number
  /**
   * How long the pod's script tries again a gateway that is not reachable yet (every 2 s, inside the one pod); 0 or
   * unset: once. Kept below timeoutMs, which also bounds the pod's start.
   */
  retryGatewaysMs?: number
}

const JOB = 'probe'
const JOB_SELECTOR = `batch.kubernetes.io/job-name=${JOB}`

/** Every request side by side (one namespace each); one result per target, never throws for a cluster's failure. */
export async function runProbes(
  tools: ClusterTools,
  requests: ProbeRequest[],
  opts: ProbeOptions,
  log: StepLog
): Promise<ProbeResult[]> {
  const all = await Promise.all(requests.map((r) => probeFrom(tools, r, opts, log)))
  return all.flat()
}

async function probeFrom(
  tools: ClusterTools,
  req: ProbeRequest,
  opts: ProbeOptions,
  log: StepLog
): Promise<ProbeResult[]> {
  if (!req.apiServers.length && !req.gateways.length) return []
  for (const t of req.apiServers) registerSecret(t.token)
  const namespace = `${PROBE_NAMESPACE_PREFIX}-${randomBytes(3).toString('hex')}`
  const deadline = Date.now() + opts.timeoutMs
  const fail = (why: string) => probeResults(req.from, req, [], why)
  try {
    const manifest = probeObjects({
      namespace,
      image: opts.image,
      apiServers: req.apiServers,
      gateways: req.gateways,
      deadlineSeconds: Math.ceil(opts.timeoutMs / 1000) + 30,
      retrySeconds: Math.floor((opts.retryGatewaysMs ?? 0) / 1000)
    })
    trackProbeNamespace(req.from, namespace)
    // Marked, so the run's count of changed objects (modes/install.ts) leaves out what is removed right after.
    const applyLog: StepLog = (l) =>
      log(l.replace(/ (created|configured|unchanged)$/gm, ' $1 (probe, removed afterwards)'))
    await kubectl.apply(tools, req.from, toYaml(...manifest), applyLog)
    // The script ends with exit 0 whatever it found (a Failed Job is only a pod stopped at activeDeadlineSeconds,
    // after this wait): Complete is the one condition to wait for.
    const finished = await kubectl.waitForCondition(
      tools,
      req.from,
      { namespace, ref: `job/${JOB}`, condition: 'Complete', timeoutMs: Math.max(1000, deadline - Date.now()) },
      log
    )
    if (!finished) {
      // Only now the pods, to say why (an image it cannot pull, a pod never scheduled).
      const pods = JSON.parse(
        await kubectl.getJson(tools, req.from, { resource: 'pods', namespace, selector: JOB_SELECTOR }, log, {
          quiet: true,
          policy: kubectl.HINT
        })
      ).items as any[]
      return fail(`the probe pod did not finish within ${Math.round(opts.timeoutMs / 1000)} s${waitingReason(pods[0])}`)
    }
    const text = await kubectl.podLogs(tools, req.from, { namespace, pod: `job/${JOB}`, container: 'probe' }, log)
    const { lines, done } = parseProbeLog(text)
    return probeResults(
      req.from,
      req,
      lines,
      done ? 'the probe did not test it' : 'the probe pod ended before testing it'
    )
  } catch (e) {
    if (!(e instanceof CommandError)) throw e
    return fail(`the probe could not run in ${req.from}: ${e.headline}${e.stderrTail ? `: ${e.stderrTail}` : ''}`)
  } finally {
    // Also after a failure, and during a cancel (afterStop: the delete may start while the action stops). What is
    // left even so, post removes (leftovers.ts); the Job's activeDeadlineSeconds and TTL stop and remove its pod.
    await kubectl
      .deleteNamespace(tools, req.from, namespace, false, log, { afterStop: true })
      // During a stop, post looks again: the create of an apply killed mid-request may land after this delete.
      .then(() => isStopping() || untrackProbeNamespace(req.from, namespace))
      .catch((e: unknown) => {
        // Left for post (leftovers.ts); a cancel ends up here too (no command starts any more).
        log(`could not remove ${namespace} in ${req.from} now: ${e instanceof CommandError ? e.headline : String(e)}`)
      })
  }
}

/** `: <pod> is waiting: ImagePullBackOff (…)` when the probe's pod never started. */
function waitingReason(pod: any): string {
  const statuses: any[] = pod?.status?.containerStatuses ?? []
  const waiting: { reason?: string; message?: string } | undefined = statuses
    .map((c: any) => c?.state?.waiting as { reason?: string; message?: string } | undefined)
    .find(Boolean)
  if (!pod) return ': no pod was created'
  return waiting
    ? `: ${pod.metadata.name} is waiting: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`
    : ''
}
