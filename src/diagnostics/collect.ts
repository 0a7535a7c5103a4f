// What the diagnostics bundle holds, gathered after a run: per cluster what istio-system has and says, istiod's
// lines about remote clusters and secrets, `istioctl remote-clusters`, the client proxy's endpoints when the
// traffic check read them; then the plan, the IstioOperators the run applied, the probe results and the checks.
// Every read is bounded (DIAGNOSTICS_READ: one short try) and a failed read leaves its error in the bundle instead.
import { Check } from '../checks/types.js'
import { Config } from '../config/index.js'
import { CommandError } from '../tools.js'
import { ISTIOD_SELECTOR, ISTIO_NAMESPACE } from '../istio-names.js'
import * as kubectl from '../kube/kubectl.js'
import { ProbeResult } from '../probes/types.js'
import { StepResult } from '../runner.js'
import { redact } from '../secrets.js'
import { ClusterTools, StepLog } from '../tools.js'

export interface DiagnosticsInput {
  config: Config
  /** istioctl too when `hasIstioctl` (mode: check downloads none). */
  tools: ClusterTools
  hasIstioctl: boolean
  /** The run's steps and what became of them (the plan); absent in mode: check. */
  results?: Map<string, StepResult>
  probes?: ProbeResult[]
  checks?: Check[]
  /**
   * Per cluster, `istioctl proxy-config endpoint <traffic check's client> -o json` as the traffic check read it when it
   * failed. Filled by the traffic check's classification (issue 14, item 2); the bundle only writes what it is given.
   */
  proxyEndpoints?: Map<string, string>
}

/**
 * Each read of the bundle: one try, at most this long; they run side by side, so a failed run's diagnostics add about
 * this much at worst (an API server that does not answer).
 */
export const DIAGNOSTICS_READ: kubectl.Policy = { timeoutMs: 10_000, retry: false }

/** istiod's log is long: the last lines, and of those only the ones about remote clusters and their secrets. */
export const ISTIOD_LOG_TAIL = 2000
export const ISTIOD_LOG_BYTES = 1 << 20
export const ISTIOD_LOG_KEEP = 300
/** Words of istiod's secret controller (pkg/kube/multicluster/secretcontroller.go, cluster.go @1.30.3). */
const REMOTE_LINE = /remote|secret|cluster|kubeconfig/i

/** Relative path → content, every content redacted. */
export type Bundle = Map<string, string>

export async function collectDiagnostics(input: DiagnosticsInput, log: StepLog): Promise<Bundle> {
  const bundle: Bundle = new Map()
  const put = (file: string, text: string) => bundle.set(file, redact(text.endsWith('\n') ? text : `${text}\n`))
  await Promise.all(input.config.clusters.map((c) => collectCluster(input, c.name, put, log)))
  if (input.results) {
    put('plan.json', JSON.stringify(planOf(input.results), null, 2))
    for (const r of input.results.values())
      if (r.step.action.type === 'istioctl-install')
        put(`istio-operators/${r.step.cluster}-${r.step.kind}.yaml`, r.step.action.iop)
  }
  if (input.probes) put('probes.json', JSON.stringify(input.probes, null, 2))
  if (input.checks) put('checks.json', JSON.stringify(input.checks, null, 2))
  for (const [cluster, json] of input.proxyEndpoints ?? []) put(`${cluster}/proxy-endpoints.json`, json)
  put('README.txt', index(bundle))
  return bundle
}

async function collectCluster(
  input: DiagnosticsInput,
  cluster: string,
  put: (file: string, text: string) => void,
  log: StepLog
): Promise<void> {
  const { tools } = input
  const say = (l: string) => log(`${cluster}: ${l}`)
  const ns = ISTIO_NAMESPACE
  const reads: [string, () => Promise<string>][] = [
    [
      `${cluster}/istio-system.txt`,
      () =>
        kubectl.getTable(
          tools,
          cluster,
          { resource: 'pods,services,deployments', namespace: ns },
          say,
          DIAGNOSTICS_READ
        )
    ],
    [
      `${cluster}/events.txt`,
      () => kubectl.getTable(tools, cluster, { resource: 'events', namespace: ns }, say, DIAGNOSTICS_READ)
    ],
    [
      `${cluster}/istiod.log`,
      async () =>
        istiodLines(
          await kubectl.logs(
            tools,
            cluster,
            {
              namespace: ns,
              selector: ISTIOD_SELECTOR,
              container: 'discovery',
              tailLines: ISTIOD_LOG_TAIL,
              limitBytes: ISTIOD_LOG_BYTES
            },
            say,
            DIAGNOSTICS_READ
          )
        )
    ]
  ]
  if (input.hasIstioctl)
    reads.push([
      `${cluster}/remote-clusters.txt`,
      async () => (await tools.istioctl(cluster, ['remote-clusters'], say, { ...DIAGNOSTICS_READ, quiet: true })).stdout
    ])
  await Promise.all(
    reads.map(async ([file, read]) => {
      try {
        put(file, (await read()) || '(empty)')
      } catch (e) {
        put(file, `could not read: ${e instanceof CommandError ? e.message : String(e)}`)
      }
    })
  )
}

/** Pure: the lines of istiod's log about remote clusters and secrets, the last ISTIOD_LOG_KEEP of them. */
export function istiodLines(text: string): string {
  const lines = text.split('\n').filter((l) => REMOTE_LINE.test(l))
  const kept = lines.slice(-ISTIOD_LOG_KEEP)
  const note = `# istiod (app=istiod, container discovery): ${kept.length} line(s) about remote clusters and secrets, of the last ${ISTIOD_LOG_TAIL} per pod${lines.length > kept.length ? ` (${lines.length - kept.length} older ones left out)` : ''}`
  return [note, ...kept].join('\n')
}

/** Pure: the plan as data — each step, what it needed, how it ended; no manifests (the IstioOperators are apart). */
export function planOf(results: Map<string, StepResult>) {
  return [...results.values()].map((r) => ({
    id: r.step.id,
    cluster: r.step.cluster,
    kind: r.step.kind,
    title: r.step.title,
    action: r.step.action.type,
    needs: r.step.needs,
    ...(r.step.after?.length ? { after: r.step.after } : {}),
    status: r.status,
    durationMs: r.durationMs,
    ...(r.value ? { value: r.value } : {}),
    ...(r.error ? { error: r.error.message } : {})
  }))
}

const ABOUT: [RegExp, string][] = [
  [/\/istio-system\.txt$/, "istio-system's pods, services and deployments (kubectl get -o wide)"],
  [/\/events\.txt$/, "istio-system's events"],
  [/\/istiod\.log$/, "istiod's log lines about remote clusters and secrets"],
  [/\/remote-clusters\.txt$/, 'istioctl remote-clusters: what each istiod makes of each cluster'],
  [/\/proxy-endpoints\.json$/, "the traffic check's client proxy's endpoints (istioctl proxy-config endpoint -o json)"],
  [/^plan\.json$/, 'the steps of the run, what each needed and how it ended'],
  [/^istio-operators\//, 'an IstioOperator the run applied with istioctl install'],
  [/^probes\.json$/, 'what the probe pods found about API servers and gateways'],
  [/^checks\.json$/, "mode: check's checks"]
]

function index(bundle: Bundle): string {
  const files = [...bundle.keys()].sort()
  return [
    'Diagnostics of the Istio multi-cluster action. Every credential it had is redacted (***).',
    '',
    ...files.map((f) => `${f}: ${ABOUT.find(([re]) => re.test(f))?.[1] ?? ''}`)
  ].join('\n')
}
