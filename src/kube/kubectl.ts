// The kubectl verbs the action uses, each building its own arguments with its own time limit and retry policy, on
// ClusterTools (and so on exec.ts, the one place that starts processes). Call sites say what they do, not how.
import { ProcessResult } from '../exec.js'
import { poll } from '../poll.js'
import { ClusterTools, CommandError, StepLog, displayCommand } from '../tools.js'
import { isTransientResult } from '../transient.js'

/** How long one call may run, and whether a transient failure is retried (ClusterTools' backoff). */
export interface Policy {
  timeoutMs: number
  retry: boolean
}

/** A read the run depends on. */
export const READ: Policy = { timeoutMs: 60_000, retry: true }
/** A read for an error's explanation: one short try, since a failure only loses a hint. */
export const HINT: Policy = { timeoutMs: 30_000, retry: false }
const APPLY: Policy = { timeoutMs: 2 * 60_000, retry: true }
/** kubectl waits until what it deletes is gone: a namespace waits for its finalizers. */
const DELETE: Policy = { timeoutMs: 7 * 60_000, retry: true }
/** A command in a container is not known to be safe to repeat. */
const EXEC: Policy = { timeoutMs: 30_000, retry: false }
/** Above `rollout status --timeout`: the process limit only ends a kubectl that hangs outside its own wait. */
const ROLLOUT_MARGIN_MS = 30_000

/** What kubectl get (or delete) selects: resource type(s) as kubectl takes them (`pods`, `deployments,secrets`). */
export interface Query {
  resource: string
  names?: string[]
  namespace?: string
  /** Every namespace (`-A`). */
  allNamespaces?: boolean
  /** A label selector (`-l`). */
  selector?: string
  fieldSelector?: string
  /** Nothing found is an empty answer, not an error. */
  ignoreNotFound?: boolean
}

function selection(q: Query): string[] {
  return [
    q.resource,
    ...(q.names ?? []),
    ...(q.namespace ? ['-n', q.namespace] : []),
    ...(q.allNamespaces ? ['-A'] : []),
    ...(q.selector ? ['-l', q.selector] : []),
    ...(q.fieldSelector ? ['--field-selector', q.fieldSelector] : []),
    ...(q.ignoreNotFound ? ['--ignore-not-found'] : [])
  ]
}

const getArgs = (q: Query, output: string, watch = false) => [
  'get',
  ...selection(q),
  ...(watch ? ['--watch'] : []),
  '-o',
  output
]

export interface ReadOptions {
  policy?: Policy
  /** The answer holds secrets: never logged. */
  secretOutput?: boolean
  /** The answer is data for the action: only its size is logged. */
  quiet?: boolean
}

/** `kubectl get -o json`: the JSON text, for the caller to parse. */
export async function getJson(
  tools: ClusterTools,
  cluster: string,
  q: Query,
  log: StepLog,
  opts: ReadOptions = {}
): Promise<string> {
  const { policy = READ, ...output } = opts
  return (await tools.kubectl(cluster, getArgs(q, 'json'), log, { ...policy, ...output })).stdout
}

/** `kubectl get -o name`: `kind.group/name` per object found. */
export async function getNames(
  tools: ClusterTools,
  cluster: string,
  q: Query,
  log: StepLog,
  policy: Policy = READ
): Promise<string[]> {
  const r = await tools.kubectl(cluster, getArgs(q, 'name'), log, policy)
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
}

/** `kubectl get -o jsonpath=<template>`: what the template printed. */
export async function getJsonpath(
  tools: ClusterTools,
  cluster: string,
  q: Query,
  template: string,
  log: StepLog,
  policy: Policy = READ
): Promise<string> {
  return (await tools.kubectl(cluster, getArgs(q, `jsonpath=${template}`), log, policy)).stdout
}

/**
 * `kubectl get --watch -o jsonpath=<template>` until `onLine` returns true for a line it printed, the watch ends,
 * or the deadline. Not retried: the caller decides whether to watch again.
 */
export function watch(
  tools: ClusterTools,
  cluster: string,
  q: Query,
  template: string,
  deadline: number,
  onLine: (line: string) => boolean,
  log: StepLog
): Promise<ProcessResult> {
  return tools.kubectl(cluster, getArgs(q, `jsonpath=${template}`, true), log, {
    timeoutMs: deadline - Date.now(),
    onStdoutLine: onLine
  })
}

/** The watch as a user would type it, for an error that says what was waited on. */
export function watchCommand(cluster: string, q: Query, template: string): string {
  return displayCommand('kubectl', ['--context', cluster, ...getArgs(q, `jsonpath=${template}`, true)])
}

/** `kubectl apply -f -` with the manifest on stdin (keys never reach argv or a file); returns what kubectl said. */
export async function apply(tools: ClusterTools, cluster: string, manifest: string, log: StepLog): Promise<string> {
  return (await tools.kubectl(cluster, ['apply', '-f', '-'], log, { stdin: manifest, ...APPLY })).stdout
}

/**
 * `kubectl apply --server-side --field-manager=<manager> --force-conflicts -f -`: server-side apply as `fieldManager`,
 * which then owns exactly the fields of the manifest; force as istioctl's own apply uses it. Retried like apply: an
 * apply of the same fields again changes nothing.
 */
export async function serverSideApply(
  tools: ClusterTools,
  cluster: string,
  manifest: string,
  fieldManager: string,
  log: StepLog
): Promise<string> {
  const args = ['apply', '--server-side', `--field-manager=${fieldManager}`, '--force-conflicts', '-f', '-']
  return (await tools.kubectl(cluster, args, log, { stdin: manifest, ...APPLY })).stdout
}

/** kubectl's answer when a resource type is not served (its CRD is absent). */
export const isNotServed = (stderr: string): boolean => /the server doesn't have a resource type/.test(stderr)

/** What `kubectl delete` removes; deleting what is already gone succeeds. */
export type DeleteTarget = Omit<Query, 'fieldSelector' | 'ignoreNotFound'>

export async function deleteObjects(
  tools: ClusterTools,
  cluster: string,
  target: DeleteTarget,
  log: StepLog
): Promise<void> {
  await tools.kubectl(cluster, ['delete', ...selection({ ...target, ignoreNotFound: true })], log, DELETE)
}

/** deleteObjects that says whether there was anything to delete (kubectl prints a line per object it deleted). */
export async function deleteIfPresent(
  tools: ClusterTools,
  cluster: string,
  target: DeleteTarget,
  log: StepLog
): Promise<boolean> {
  const r = await tools.kubectl(cluster, ['delete', ...selection({ ...target, ignoreNotFound: true })], log, DELETE)
  return /\bdeleted\b/.test(r.stdout)
}

/**
 * Deletes a namespace and all in it; without `wait`, returns once the API server has accepted the deletion.
 * `afterStop`: a cleanup of the action's own namespace that runs even when the action is stopping (tools.ts).
 */
export async function deleteNamespace(
  tools: ClusterTools,
  cluster: string,
  namespace: string,
  wait: boolean,
  log: StepLog,
  opts: { afterStop?: boolean } = {}
): Promise<void> {
  const args = [
    'delete',
    ...selection({ resource: 'namespace', names: [namespace], ignoreNotFound: true }),
    ...(wait ? [] : ['--wait=false'])
  ]
  await tools.kubectl(cluster, args, log, { ...(wait ? DELETE : APPLY), ...opts })
}

/** `kubectl rollout restart` of workloads (`deployment/x`), without waiting for it. */
export async function rolloutRestart(
  tools: ClusterTools,
  cluster: string,
  refs: string[],
  namespace: string,
  log: StepLog
): Promise<void> {
  await tools.kubectl(cluster, ['rollout', 'restart', ...refs, '-n', namespace], log, READ)
}

/**
 * `kubectl rollout status` until the rollout of `ref` (`deployment/x`, or `deployment` for all in the namespace) is
 * done. Its own --timeout is the time left, so it ends before the deadline; a transient failure (a dropped watch) waits
 * again for the time left. Throws the last failure otherwise.
 */
export async function rolloutStatus(
  tools: ClusterTools,
  cluster: string,
  ref: string,
  namespace: string,
  deadline: number,
  log: StepLog
): Promise<void> {
  let last: CommandError | undefined
  const done = await poll(deadline, async () => {
    const left = Math.max(1000, deadline - Date.now())
    try {
      await tools.kubectl(
        cluster,
        ['rollout', 'status', ref, '-n', namespace, `--timeout=${Math.ceil(left / 1000)}s`],
        log,
        {
          timeoutMs: left + ROLLOUT_MARGIN_MS
        }
      )
      return true
    } catch (e) {
      if (!(e instanceof CommandError) || !isTransientResult(e.result)) throw e
      last = e
      return undefined
    }
  })
  if (!done) throw last!
}

/** `kubectl exec -n <namespace> <target> -c <container> -- <command…>`: what the command printed. */
export async function exec(
  tools: ClusterTools,
  cluster: string,
  where: { namespace: string; target: string; container: string },
  command: string[],
  log: StepLog
): Promise<string> {
  const args = ['exec', '-n', where.namespace, where.target, '-c', where.container, '--', ...command]
  return (await tools.kubectl(cluster, args, log, EXEC)).stdout
}

/**
 * `kubectl logs -n <namespace> <pod> -c <container>`: what the container printed (data: only its size is logged).
 * `pod` may be `job/<name>`: kubectl reads the first of its pods (polymorphichelpers/attachablepodforobject.go@v1.32.0).
 */
export async function podLogs(
  tools: ClusterTools,
  cluster: string,
  where: { namespace: string; pod: string; container: string },
  log: StepLog
): Promise<string> {
  const args = ['logs', '-n', where.namespace, where.pod, '-c', where.container]
  return (await tools.kubectl(cluster, args, log, { ...READ, quiet: true })).stdout
}

/**
 * `kubectl wait --for=condition=<condition> <ref> -n <namespace> --timeout=<s>`: true once the condition holds, false
 * when kubectl's own timeout ran out first (it exits 1: `error: timed out waiting for the condition on <ref>`,
 * staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go@v1.32.0 errWaitTimeoutWithName). Any other failure throws.
 */
export async function waitForCondition(
  tools: ClusterTools,
  cluster: string,
  where: { namespace: string; ref: string; condition: string; timeoutMs: number },
  log: StepLog
): Promise<boolean> {
  const seconds = Math.max(1, Math.ceil(where.timeoutMs / 1000))
  const args = ['wait', `--for=condition=${where.condition}`, where.ref, '-n', where.namespace, `--timeout=${seconds}s`]
  try {
    await tools.kubectl(cluster, args, log, {
      timeoutMs: seconds * 1000 + ROLLOUT_MARGIN_MS,
      retry: false,
      quiet: true
    })
    return true
  } catch (e) {
    if (e instanceof CommandError && /timed out waiting for the condition/.test(e.stderrTail ?? '')) return false
    throw e
  }
}

/** `kubectl get <selection> -o wide`: the table a person reads (the diagnostics bundle). Not logged: it is data. */
export async function getTable(
  tools: ClusterTools,
  cluster: string,
  q: Query,
  log: StepLog,
  policy: Policy = HINT
): Promise<string> {
  return (await tools.kubectl(cluster, getArgs(q, 'wide'), log, { ...policy, quiet: true })).stdout
}

/** What `logs` reads: the pods of a selector, one container, the last lines, at most so many bytes per pod. */
export interface LogQuery {
  namespace: string
  selector: string
  container: string
  tailLines: number
  limitBytes: number
}

/** `kubectl logs -l <selector> -c <container> --tail --limit-bytes --prefix`: every matching pod's last lines. */
export async function logs(
  tools: ClusterTools,
  cluster: string,
  q: LogQuery,
  log: StepLog,
  policy: Policy = HINT
): Promise<string> {
  const args = [
    'logs',
    '-n',
    q.namespace,
    '-l',
    q.selector,
    '-c',
    q.container,
    `--tail=${q.tailLines}`,
    `--limit-bytes=${q.limitBytes}`,
    '--prefix'
  ]
  return (await tools.kubectl(cluster, args, log, { ...policy, quiet: true })).stdout
}
