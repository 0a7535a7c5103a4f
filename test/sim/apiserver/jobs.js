// batch/v1 Jobs: the defaults the API server gives a Job, the Job controller (one Pod, then the Job's status), the
// kubelet's part for its Pod (pull, mount the Secret volumes, run, exit) and the TTL-after-finished controller.
// Enough for short-lived, run-once Jobs such as the action's probes (issue 14); what the Pod's container prints is
// what `kubectl logs` serves (ctx.podLogs, handler.js).
//
// Real sources (Kubernetes 1.32):
// - pkg/apis/batch/v1/defaults.go SetDefaults_Job: completions 1, parallelism 1, backoffLimit 6, completionMode
//   NonIndexed, suspend false, podReplacementPolicy TerminatingOrFailed; manualSelector unset.
// - pkg/registry/batch/job/strategy.go generateSelector: spec.selector matchLabels batch.kubernetes.io/controller-uid
//   = the Job's uid; the template gets batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name and the
//   legacy controller-uid, job-name labels.
// - pkg/controller/job/job_controller.go: Pods named <job>-<5 random>, owned by the Job (controller: true); status
//   active / ready / succeeded / failed, startTime, completionTime; on success the SuccessCriteriaMet condition then
//   Complete (1.31+, JobSuccessPolicy/JobManagedBy on by default), on failure FailureTarget then Failed with reason
//   BackoffLimitExceeded.
// - pkg/controller/ttlafterfinished: a finished Job with ttlSecondsAfterFinished is deleted that long after it
//   finished (its Pods go with it: background propagation, controllers.js garbage collector).
// Not modelled: retries (backoffLimit: a failed Pod fails the Job at once), parallelism > 1, indexed Jobs, suspend,
// activeDeadlineSeconds, Pod failure policies.
import { randomSuffix } from './rest.js'
import { nowTimestamp } from './store.js'
import { recordEvent, withPodStatus, recordPullFailure } from './controllers.js'
import { isProbePod, runProbePod } from './probe-pods.js'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').ChangeEvent} ChangeEvent */

/** @param {import('./context.js').ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
export function jobs(ctx) {
  const { store, schedule } = ctx
  /** @type {Set<string>} */
  const started = new Set() // job uids that have their pod

  /** @param {KubeObject} job */
  const withDefaults = (job) => {
    const uid = job.metadata.uid
    const name = job.metadata.name
    const selectorLabels = { 'batch.kubernetes.io/controller-uid': uid }
    const templateLabels = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name
    }
    const spec = job.spec || {}
    const template = spec.template || {}
    return {
      ...job,
      spec: {
        completions: 1,
        parallelism: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        ...spec,
        selector: spec.selector || { matchLabels: selectorLabels },
        template: {
          ...template,
          metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...templateLabels } }
        }
      }
    }
  }

  /** @param {KubeObject} job */
  const createPod = (job) => {
    const template = job.spec.template
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job.metadata.name}-${randomSuffix()}`,
        namespace: job.metadata.namespace,
        labels: { ...template.metadata?.labels },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: job.metadata.name,
            uid: job.metadata.uid,
            controller: true,
            blockOwnerDeletion: true
          }
        ]
      },
      spec: { ...structuredClone(template.spec || {}), nodeName: `${ctx.name}-control-plane` },
      status: { podIP: `10.244.${ctx.index}.${200 + Math.floor(Math.random() * 50)}`, startTime: nowTimestamp() }
    }
    const stored = store.put(withPodStatus(pod, false, ctx.images.unpullable))
    recordEvent(store, job, {
      reason: 'SuccessfulCreate',
      message: `Created pod: ${stored.metadata.name}`,
      component: 'job-controller'
    })
    const pulling = stored.status.containerStatuses.find(
      (/** @type {any} */ cs) => cs.state.waiting?.reason === 'ImagePullBackOff'
    )
    if (pulling) recordPullFailure(store, stored, pulling)
    else kubelet(stored.metadata.namespace, stored.metadata.name)
    return stored
  }

  // The kubelet: wait for the Pod's Secret volumes (FailedMount until they exist), run it, record how it ended.
  /** @param {string} ns @param {string} name */
  const kubelet = (ns, name) => {
    const pod = store.get('v1', 'Pod', ns, name)
    if (!pod || ctx.closing) return
    const missing = (pod.spec.volumes || [])
      .map((/** @type {any} */ v) => v.secret?.secretName)
      .filter((/** @type {string | undefined} */ s) => s && !store.get('v1', 'Secret', ns, s))
    if (missing.length) {
      schedule(() => kubelet(ns, name), 200)
      return
    }
    store.put(withPodStatus(pod, true, ctx.images.unpullable))
    const run = isProbePod(pod) ? runProbePod(ctx, pod) : Promise.resolve({ log: '', exitCode: 0 })
    run.then(
      (r) => finish(ns, name, r),
      (err) => finish(ns, name, { log: `${err?.stack || err}\n`, exitCode: 1 })
    )
  }

  /** @param {string} ns @param {string} name @param {{ log: string, exitCode: number }} r */
  const finish = (ns, name, { log, exitCode }) => {
    const pod = store.get('v1', 'Pod', ns, name)
    if (!pod || ctx.closing) return
    ctx.podLogs.set(`${ns}/${name}`, log)
    const ts = nowTimestamp()
    const ok = exitCode === 0
    const reason = ok ? 'Completed' : 'Error'
    store.put({
      ...pod,
      status: {
        ...pod.status,
        phase: ok ? 'Succeeded' : 'Failed',
        conditions: (pod.status.conditions || []).map((/** @type {any} */ c) =>
          c.type === 'Ready' || c.type === 'ContainersReady'
            ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: ts }
            : c
        ),
        containerStatuses: (pod.status.containerStatuses || []).map((/** @type {any} */ cs) => ({
          ...cs,
          ready: false,
          started: false,
          state: { terminated: { exitCode, reason, startedAt: cs.state.running?.startedAt || ts, finishedAt: ts } }
        }))
      }
    })
    const owner = (pod.metadata.ownerReferences || []).find((/** @type {any} */ o) => o.kind === 'Job')
    const job = owner && store.get('batch/v1', 'Job', ns, owner.name)
    if (!job || job.metadata.uid !== owner.uid) return
    /** @param {string} type @param {string} r @param {string} message */
    const cond = (type, r, message) => ({
      type,
      status: 'True',
      reason: r,
      message,
      lastProbeTime: ts,
      lastTransitionTime: ts
    })
    const conditions = ok
      ? [
          cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')
        ]
      : [
          cond('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
          cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')
        ]
    const done = store.put({
      ...job,
      status: {
        ...job.status,
        active: 0,
        ready: 0,
        terminating: 0,
        [ok ? 'succeeded' : 'failed']: 1,
        ...(ok ? { completionTime: ts } : {}),
        conditions,
        uncountedTerminatedPods: {}
      }
    })
    const ttl = done.spec?.ttlSecondsAfterFinished
    if (Number.isInteger(ttl)) {
      schedule(() => {
        const j = store.get('batch/v1', 'Job', ns, done.metadata.name)
        if (j?.metadata.uid === done.metadata.uid) store.delete('batch/v1', 'Job', ns, j.metadata.name)
      }, ttl * 1000)
    }
  }

  return (e) => {
    const o = e.object
    if (o.kind === 'Pod' && e.type === 'DELETED') ctx.podLogs.delete(`${o.metadata.namespace}/${o.metadata.name}`)
    if (o.kind !== 'Job' || !String(o.apiVersion).startsWith('batch/')) return
    if (e.type === 'DELETED') {
      started.delete(o.metadata.uid)
      return
    }
    if (started.has(o.metadata.uid)) return
    started.add(o.metadata.uid)
    const job = store.put(withDefaults(o))
    createPod(job)
    const latest = store.get('batch/v1', 'Job', job.metadata.namespace, job.metadata.name)
    store.put({
      ...latest,
      status: { startTime: nowTimestamp(), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} }
    })
  }
}
