// End to end under faults: the bundled action survives what is transient, fails within bounded time and clearly on
// what is not (naming the cluster, the step, the command and its stderr), leaves the other clusters finished or
// untouched, stops promptly when cancelled, and leaves no credential anywhere: not in logs, outputs, state, summary,
// RUNNER_TEMP after post, nor in the argument list of any process it started (recorded by a shim).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ChildProcess } from 'node:child_process'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { filesBelow, makeRunner, runEntry } from '../test/harness/action.js'
import { isRunning, makeShim } from '../test/harness/shim.js'
import { EXIT_AFTER_SIGNAL_MS } from '../src/main.js'
import { KILL_AFTER_MS } from '../src/exec.js'
import { DEFAULT_RETRY } from '../src/tools.js'
import { DIAGNOSTICS_READ } from '../src/diagnostics/collect.js'
import {
  errorAnnotations,
  findLeaks,
  leakPlaces,
  maskedValues,
  storedCredentials,
  watchCredentialFiles
} from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Entry = Awaited<ReturnType<typeof runEntry>>
type ClusterSpec = NonNullable<Parameters<typeof startSimulation>[0]>['clusters']
type Shim = ReturnType<typeof makeShim>
type ProcessRecord = ReturnType<Shim['records']>[number]

const VERSION = '1.30.3'

interface Scenario {
  sim: Sim
  runner: ReturnType<typeof makeRunner>
  shim: ReturnType<typeof makeShim>
  main: Entry
  post: Entry
  /** Folders of the action still under RUNNER_TEMP when main had exited (before post). */
  leftAfterMain: string[]
  /** Recorded kubectl/istioctl processes still running when main had exited. */
  aliveAfterMain: ProcessRecord[]
  /** Credential files (and the action's folders) seen during the run, with their modes. */
  modes: Map<string, string[]>
  leaks: string[]
  /** The run's own error (the `::error::` without a title), unescaped. */
  error: string
  stop(): Promise<void>
}

/**
 * One run of main + post against a fresh simulation, with istioctl seeded in the tool cache behind the recording
 * shim (so istioctl's argument lists are recorded too). `seedIstioctl: false` makes the action download it.
 */
async function scenario(opts: {
  clusters?: ClusterSpec
  inputs?: Record<string, string>
  env?: Record<string, string>
  versions?: Array<string | { version: string; published?: boolean }>
  seedIstioctl?: boolean
  arrange?: (sim: Sim) => void | Promise<void>
  onSpawn?: (child: ChildProcess, ctx: { sim: Sim; shim: ReturnType<typeof makeShim> }) => void
  /** Between main and post, e.g. what the runner does after killing a step. */
  beforePost?: (ctx: { sim: Sim; shim: ReturnType<typeof makeShim> }) => void | Promise<void>
}): Promise<Scenario> {
  const sim = await startSimulation({ clusters: opts.clusters, versions: opts.versions })
  const runner = makeRunner()
  const shim = makeShim()
  if (opts.seedIstioctl !== false) await shim.seedIstioctl(runner.toolCache, VERSION)
  await opts.arrange?.(sim)
  const inputs = {
    clusters: sim.clustersInput(),
    kubeconfig: sim.kubeconfig(),
    'istio-version': VERSION,
    'verify-timeout': '20s',
    ...sim.inputs,
    ...opts.inputs
  }
  const env = { ...sim.env, PATH: shim.path, ...opts.env }
  const watch = watchCredentialFiles(runner.runnerTemp, [CANARY])
  const main = await runEntry({
    inputs,
    env,
    runner,
    timeoutMs: 120_000,
    onSpawn: opts.onSpawn && ((child) => opts.onSpawn!(child, { sim, shim }))
  })
  const modes = watch.stop()
  const leftAfterMain = fs.readdirSync(runner.runnerTemp).filter((d) => d.startsWith('istio-multicluster-'))
  const aliveAfterMain = shim.alive()
  await opts.beforePost?.({ sim, shim })
  const post = await runEntry({ inputs, env, runner, entry: 'post', state: main.state, timeoutMs: 30_000 })
  const needles = [CANARY, ...storedCredentials(sim), ...maskedValues(main.stdout)]
  const leaks = findLeaks(leakPlaces(main, runner, shim, post), needles)
  const error = errorAnnotations(main.stdout)
    .filter((e) => !e.title)
    .map((e) => e.message)
    .join('\n')
  return {
    sim,
    runner,
    shim,
    main,
    post,
    leftAfterMain,
    aliveAfterMain,
    modes,
    leaks,
    error,
    async stop() {
      shim.killAlive()
      await sim.stop()
      runner.cleanup()
      shim.cleanup()
    }
  }
}

/** How long the run's diagnostics took: its log group's `(<d> s)`; 0 without one. */
const diagnosticsMs = (s: Scenario) =>
  Math.round(Number(/::group::diagnostics · read every cluster \(([\d.]+) s\)/.exec(s.main.stdout)?.[1] ?? 0) * 1000)

/** Requests that change something (the simulator's own /sim endpoints aside). */
const writes = (c: Sim['clusters'][number]) =>
  c.requests.filter((r: any) => !r.sim && !['GET', 'HEAD', 'OPTIONS'].includes(r.method))

/** A cluster's row in the summary's step durations (the table inside <details>): a cell per step, then the result. */
const summaryRow = (s: Scenario, cluster: string) =>
  s.main.summary
    .slice(s.main.summary.indexOf('<details>'))
    .split('\n')
    .find((l) => l.startsWith(`| ${cluster} |`)) ?? ''
/** A cluster's row in the table the summary leads with: status, network, gateway address, time. */
const overviewRow = (s: Scenario, cluster: string) =>
  s.main.summary.split('\n').find((l) => l.startsWith(`| ${cluster} |`)) ?? ''

/** What every run must leave: no canary, credential files 0600 in a 0700 folder, nothing after post. */
function expectClean(s: Scenario): void {
  expect(s.leaks).toEqual([])
  for (const [p, m] of s.modes) expect([p, m]).toEqual([p, p.endsWith('/') ? ['0700'] : ['0600']])
  expect(s.post.exitCode).toBe(0)
  // Only a failed run's diagnostics bundle stays (leaks covers it; the runner empties RUNNER_TEMP after the job).
  expect(filesBelow(s.runner.runnerTemp).filter((f) => !f.includes('/diagnostics-istio-multicluster-'))).toEqual([])
}

/** Every recorded process of `tool` whose arguments hold all of `args`. */
const recorded = (s: Scenario, tool: string, ...args: string[]) =>
  s.shim.records().filter((r) => r.tool === tool && args.every((a) => r.argv.includes(a)))

type Cancelled = Scenario & {
  signalledAt: number
  exitedAt: number
  requestsAtExit: number
  requestsLater: number
  /** What main started, without post (which deletes probe namespaces a cancel left: issue 14). */
  mainRecords: ProcessRecord[]
  /** The `op` commands running when the signal was sent (two, one per cluster, unless they never started). */
  runningAtSignal: ProcessRecord[]
  /** Those of them still running when main had exited. */
  stillRunningAtExit: ProcessRecord[]
}

/** How long each cancelled `op` sleeps in the simulator: a run that waited for its commands would take this long. */
const OP_DELAY_MS = 20_000
/** How long a cancel scenario waits for both `op` commands to run; then it signals anyway, and its test fails. */
const START_WAIT_MS = 60_000

/** Runs until two istioctl `op` commands run (each sleeping OP_DELAY_MS in the simulator), then sends `signal`. */
async function cancelled(signal: NodeJS.Signals, op: string, inputs: Record<string, string> = {}): Promise<Cancelled> {
  let signalledAt = 0
  let exitedAt = 0
  let requestsAtExit = 0
  let runningAtSignal: ProcessRecord[] = []
  let stillRunningAtExit: ProcessRecord[] = []
  let requestsLater = 0
  let mainRecords: ProcessRecord[] = []
  // Running, not merely recorded: the process is there under its own arguments (/proc), not a zombie.
  const running = (shim: Shim) => shim.alive().filter((r) => r.tool === 'istioctl' && r.argv.includes(op))
  const s = await scenario({
    clusters: [
      { name: 'cluster1', istioctlDelays: { [op]: OP_DELAY_MS } },
      { name: 'cluster2', istioctlDelays: { [op]: OP_DELAY_MS } }
    ],
    inputs,
    onSpawn: (child, { sim, shim }) => {
      const started = Date.now()
      child.on('exit', () => {
        exitedAt = Date.now()
        requestsAtExit = sim.requestCount()
        stillRunningAtExit = runningAtSignal.filter((r) => isRunning(r.pid, r.argv))
      })
      const poll = setInterval(() => {
        if (running(shim).length < 2 && Date.now() - started < START_WAIT_MS) return
        clearInterval(poll)
        setTimeout(() => {
          runningAtSignal = running(shim)
          signalledAt = Date.now()
          child.kill(signal)
        }, 500)
      }, 50)
    },
    // The runner ends what is left of a step it had to kill (its process tree).
    // Nothing keeps talking to the clusters after main is gone (measured before post, which may clean up).
    beforePost: async ({ shim, sim }) => {
      if (signal === 'SIGKILL') shim.killAlive()
      await new Promise((r) => setTimeout(r, 1500))
      requestsLater = sim.requestCount()
      mainRecords = shim.records()
    }
  })
  return Object.assign(s, {
    signalledAt,
    exitedAt,
    requestsAtExit,
    requestsLater,
    mainRecords,
    runningAtSignal,
    stillRunningAtExit
  })
}

/** The clusters (`--context`) of recorded processes, sorted. */
const contextsOf = (records: ProcessRecord[]) => records.map((r) => r.argv[r.argv.indexOf('--context') + 1]).sort()

/**
 * After a signal the action is gone by its own exit timer (main.ts), which also outlasts the SIGKILL of a command that
 * ignored SIGTERM (exec.ts); the margin is for a loaded runner. A run that waited for its commands instead would
 * take OP_DELAY_MS, which stays out of reach.
 */
const EXIT_MARGIN_MS = 5000
const EXIT_BOUND_MS = Math.max(EXIT_AFTER_SIGNAL_MS, KILL_AFTER_MS) + EXIT_MARGIN_MS

/** Asserts that both `op` commands ran when the signal came, that the action said it stopped them, and did so in time. */
function expectStoppedWhileRunning(name: string, signal: NodeJS.Signals, s: Cancelled): void {
  expect(contextsOf(s.runningAtSignal)).toEqual(['cluster1', 'cluster2'])
  expect(s.signalledAt).toBeGreaterThan(0)
  // "stopping N running command(s)": N counts every command the action had running, at least those two.
  const stopping = errorAnnotations(s.main.stdout)
    .map((e) =>
      new RegExp(`^Received ${signal}: stopping (\\d+) running command\\(s\\); no new step starts\\.$`).exec(e.message)
    )
    .filter((m) => m !== null)
  expect(stopping).toHaveLength(1)
  expect(Number(stopping[0][1])).toBeGreaterThanOrEqual(s.runningAtSignal.length)
  const exitMs = s.exitedAt - s.signalledAt
  console.log(`${name}: exited ${exitMs} ms after the signal (bound ${EXIT_BOUND_MS} ms)`)
  expect(exitMs).toBeGreaterThan(0)
  expect(exitMs).toBeLessThan(EXIT_BOUND_MS)
  expect(EXIT_BOUND_MS).toBeLessThan(OP_DELAY_MS)
  expect(s.stillRunningAtExit).toEqual([])
  expect(s.aliveAfterMain).toEqual([])
}

/**
 * The watch request of the gateway wait (`kubectl get services --field-selector … --watch`): its list GET carries
 * `limit=500`, the watch that follows `resourceVersion=…&watch=true` (client-go sorts the query).
 */
const GATEWAY_WATCH =
  '/api/v1/namespaces/istio-system/services?fieldSelector=metadata.name%3Distio-eastwestgateway&resourceVersion='
const gatewayWatches = (c: Sim['clusters'][number]) =>
  c.requests.filter((r: any) => r.method === 'GET' && r.url.includes(GATEWAY_WATCH))
const REWATCH_ADDRESS = '192.0.2.201'

const RELEASE_VERSIONS = ['1.29.4', '1.30.2', { version: '1.30.3', published: false }, '1.31.1']

/** expiredAtStart: how slowly cluster1 answers each request. */
const SLOW_REQUEST_MS = 1500

/** Every run of this file. They start together (a few at a time: most of a run is waiting) and are checked below. */
const SCENARIOS: Record<string, () => Promise<Scenario>> = {
  transient: () =>
    scenario({
      // A short request timeout, so that a request the server never answers fails in seconds (and is retried).
      env: { ISTIO_MULTICLUSTER_REQUEST_TIMEOUT: '3s' },
      arrange: (sim) => {
        const [c1, c2] = sim.clusters
        // 503 without Retry-After on creating istio-system: kubectl gives up at once, the action retries.
        c1.setFault({
          kind: 'status',
          code: 503,
          count: 1,
          match: { method: 'POST', pathIncludes: '/api/v1/namespaces?' }
        })
        // 503 with Retry-After on reading secrets: client-go waits and retries by itself.
        c1.setFault({
          kind: 'status',
          code: 503,
          count: 2,
          retryAfter: 1,
          match: { method: 'GET', pathIncludes: '/namespaces/istio-system/secrets' }
        })
        // istioctl install fails once, as when the API server restarts under it.
        c1.setFault({
          kind: 'istioctl',
          op: 'install',
          times: 1,
          message:
            'failed to install manifests: failed to update resource with server-side apply for obj Deployment/istio-system/istiod: the server is currently unable to handle the request'
        })
        // A request that is never answered (a connection dropped on the way): kubectl's request timeout ends it.
        c2.setFault({ kind: 'hang', count: 1, match: { method: 'POST', pathIncludes: '/api/v1/namespaces?' } })
        // The connection reset while applying cross-network-gateway.
        c2.setFault({
          kind: 'reset',
          count: 1,
          match: { method: 'POST', pathIncludes: '/namespaces/istio-system/gateways' }
        })
        // A server-side timeout (504) while create-remote-secret reads its service account.
        c2.setFault({
          kind: 'status',
          code: 504,
          count: 1,
          match: { method: 'GET', pathIncludes: '/namespaces/istio-system/serviceaccounts/' }
        })
        // And everything is slow.
        c2.setFault({ kind: 'latency', ms: 40 })
      }
    }),
  // The watch for cluster1's gateway address fails once (503, which kubectl does not retry by itself).
  rewatch: () =>
    scenario({
      clusters: [{ name: 'cluster1', lb: { mode: 'none' } }, { name: 'cluster2' }],
      inputs: { 'gateway-timeout': '30s' },
      arrange: (sim) => {
        const c1 = sim.cluster('cluster1')
        c1.setFault({ kind: 'status', code: 503, count: 1, match: { method: 'GET', pathIncludes: GATEWAY_WATCH } })
        // cluster1 has no load balancer: its address is set once a second watch is open, so only a re-watch sees it
        // (the watch resumes from its list's resourceVersion, so the change cannot slip between list and watch).
        const poll = setInterval(() => {
          if (gatewayWatches(c1).length < 2) return
          clearInterval(poll)
          const svc = c1.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
          c1.store.put({ ...svc, status: { loadBalancer: { ingress: [{ ip: REWATCH_ADDRESS }] } } })
        }, 50)
        poll.unref()
      }
    }),
  // istioctl install in cluster2 keeps failing with an error that looks transient: retried, but bounded.
  installAlwaysFails: () =>
    scenario({
      arrange: (sim) => {
        sim.cluster('cluster2').setFault({
          kind: 'istioctl',
          op: 'install',
          times: 'always',
          message: 'failed to install manifests: the server is currently unable to handle the request'
        })
      }
    }),
  // cluster2's API server is gone (closed: connection refused).
  unreachable: () => scenario({ arrange: (sim) => sim.cluster('cluster2').close() }),
  // No load-balancer controller in cluster2: its gateway never gets an address.
  noAddress: () =>
    scenario({
      clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'none' } }],
      inputs: { 'gateway-timeout': '3s' }
    }),
  // The token of cluster2 has expired before the run; cluster1 answers slowly, so its reads are still running.
  expiredAtStart: () =>
    scenario({
      arrange: (sim) => {
        sim.cluster('cluster2').setFault({ kind: 'expireToken' })
        sim.cluster('cluster1').setFault({ kind: 'latency', ms: SLOW_REQUEST_MS })
      }
    }),
  // The token of cluster2 expires halfway: right after its cacerts was written.
  expiresHalfway: () =>
    scenario({
      arrange: (sim) => {
        const c2 = sim.cluster('cluster2')
        const onChange = (e: any) => {
          if (e.object.kind === 'Secret' && e.object.metadata.name === 'cacerts') {
            c2.setFault({ kind: 'expireToken' })
            c2.store.off('change', onChange)
          }
        }
        c2.store.on('change', onChange)
      }
    }),
  // RBAC: the admin of cluster2 may not patch Deployments (403), so istioctl install fails: it writes them with a
  // server-side apply, a PATCH (operator/pkg/install/install.go serverSideApply).
  forbidden: () =>
    scenario({
      arrange: (sim) =>
        void sim.cluster('cluster2').setFault({
          kind: 'forbid',
          match: { method: 'PATCH', pathIncludes: '/apis/apps/v1/namespaces/istio-system/deployments/' }
        })
    }),
  term: () => cancelled('SIGTERM', 'install'),
  int: () => cancelled('SIGINT', 'install', { 'export-kubeconfig': 'true' }),
  kill: () => cancelled('SIGKILL', 'install'),
  // Cancelled while verifying: the polling loop must not start new istioctl processes after the cancel.
  verifying: () => cancelled('SIGTERM', 'remote-clusters'),
  checksum: () =>
    scenario({
      versions: RELEASE_VERSIONS,
      seedIstioctl: false,
      inputs: { 'istio-version': '1.31.1' },
      arrange: (sim) => sim.releases.setFault({ kind: 'checksum-mismatch' })
    }),
  truncated: () =>
    scenario({
      versions: RELEASE_VERSIONS,
      seedIstioctl: false,
      inputs: { 'istio-version': '1.31.1' },
      arrange: (sim) => sim.releases.setFault({ kind: 'truncate' })
    }),
  unpublished: () =>
    scenario({ versions: RELEASE_VERSIONS, seedIstioctl: false, inputs: { 'istio-version': '1.30.3' } }),
  rateLimited: () =>
    scenario({
      versions: RELEASE_VERSIONS,
      seedIstioctl: false,
      inputs: { 'istio-version': '1.30' },
      arrange: (sim) => sim.releases.setFault({ kind: 'rate-limit' })
    })
}
const PERMANENT = ['expiredAtStart', 'expiresHalfway', 'installAlwaysFails', 'unreachable', 'forbidden', 'noAddress']

/** The pauses of one command retried to its last attempt: 1 + 2 + 4 s with DEFAULT_RETRY (tools.ts). */
const RETRY_BACKOFFS_MS = Array.from(
  { length: DEFAULT_RETRY.attempts - 1 },
  (_, i) => DEFAULT_RETRY.baseDelayMs * 2 ** i
).reduce((a, b) => a + b, 0)
/**
 * The timers of the action (and of its inputs) that each permanent failure may wait out before it fails: the retries
 * of the failing command; for noAddress its gateway-timeout (3 s); for expiredAtStart the slow read of cluster1 that the
 * run lets finish, ten requests one after another (kubectl's discovery: /version, /api, /apis, the groups; then the
 * namespace and six lists). A 401 or a 403 is not retried.
 */
const PERMANENT_TIMERS_MS: Record<string, number> = {
  expiredAtStart: 10 * SLOW_REQUEST_MS,
  expiresHalfway: 0,
  installAlwaysFails: RETRY_BACKOFFS_MS,
  unreachable: RETRY_BACKOFFS_MS,
  forbidden: 0,
  noAddress: 3000
}
/**
 * The work around those timers (the other cluster's install, the simulated clusters of four runs sharing two cores):
 * 7–13 s alone, this much on a loaded runner.
 */
const WORK_MARGIN_MS = 40_000
/** How long the action lets a kubectl read run (state.ts): a run that waited for a hung command took this long. */
const COMMAND_TIMEOUT_MS = 60_000
const RELEASES = ['checksum', 'truncated', 'unpublished', 'rateLimited']
const CANCELLED = ['term', 'int', 'kill', 'verifying']

// Two cores: four runs at a time keep them busy without starving the simulated clusters, which live in this process.
const MAX_CONCURRENT = 4
const started = new Map<string, Promise<Scenario>>()
let active = 0
const waiting: (() => void)[] = []
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (active >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r))
  active++
  try {
    return await fn()
  } finally {
    active--
    waiting.shift()?.()
  }
}
/** The run's result; every run was started by the first call. */
function run(name: string): Promise<Scenario> {
  if (started.size === 0)
    for (const [n, fn] of Object.entries(SCENARIOS)) {
      const p = limited(fn)
      p.catch(() => undefined) // reported where it is awaited
      started.set(n, p)
    }
  return started.get(name)!
}

afterAll(async () => {
  await Promise.all([...started.values()].map(async (p) => (await p.catch(() => undefined))?.stop()))
})

describe('e2e faults: transient API errors and a failing istioctl are survived', () => {
  let s: Scenario

  beforeAll(async () => {
    s = await run('transient')
  }, 240_000)

  it('completes: the mesh is built and verified', () => {
    if (s.main.exitCode !== 0) console.log(s.main.stdout, s.main.stderr)
    expect(s.main.exitCode).toBe(0)
    expect(s.main.outputs.verified).toBe('true')
    expect(errorAnnotations(s.main.stdout)).toEqual([])
    for (const c of s.sim.clusters) expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
  })

  it('logs what was retried and why, with backoff', () => {
    const retries = s.main.stdout.split('\n').filter((l) => l.startsWith('↻ '))
    const said = (re: RegExp) => retries.filter((l) => re.test(l))
    for (const l of retries)
      expect(l).toMatch(/^↻ transient failure of (kubectl|istioctl) .+ \(.+\); retry [2-4]\/4 in (1|2|4)\.0 s$/)
    expect(
      said(
        /^↻ transient failure of kubectl --context cluster1 .*apply -f - \(.*the server is currently unable to handle the request/
      )
    ).not.toEqual([])
    expect(
      said(
        /^↻ transient failure of istioctl install -y -f - --readiness-timeout 5m0s --context cluster1 \(.*the server is currently unable to handle the request/
      )
    ).not.toEqual([])
    expect(
      said(
        /^↻ transient failure of kubectl --context cluster2 .*apply -f - \(.*(Client\.Timeout exceeded|context deadline exceeded)/
      )
    ).not.toEqual([])
    expect(said(/^↻ transient failure of kubectl --context cluster2 .*apply -f - \(.*EOF/)).not.toEqual([])
    expect(
      said(
        /^↻ transient failure of istioctl create-remote-secret .*--context cluster2 \(.*unable to return a response in the time allotted/
      )
    ).not.toEqual([])
  })

  it('retries only commands that are safe to run again (reads, apply, install, create-remote-secret)', () => {
    const retried = s.main.stdout
      .split('\n')
      .filter((l) => l.startsWith('↻ '))
      .map((l) => /^↻ transient failure of (\S+) (?:--context \S+ )?(\S+)/.exec(l)!.slice(1).join(' '))
    expect(retried.length).toBeGreaterThanOrEqual(5)
    for (const r of retried)
      expect([
        'kubectl apply',
        'kubectl get',
        'istioctl install',
        'istioctl create-remote-secret',
        'istioctl remote-clusters'
      ]).toContain(r)
  })

  it('gives kubectl a request timeout for requests, none for watches', () => {
    const kubectl = recorded(s, 'kubectl')
    const applies = kubectl.filter((r) => r.argv.includes('apply'))
    const watches = kubectl.filter((r) => r.argv.includes('--watch'))
    // Both kinds ran (the namespaces, the Gateway, the remote secrets; the gateway address): neither check is empty.
    expect(applies.length).toBeGreaterThanOrEqual(4)
    expect(watches.length).toBeGreaterThanOrEqual(2)
    expect(applies.filter((r) => !r.argv.includes('--request-timeout=3s'))).toEqual([])
    expect(watches.filter((r) => r.argv.some((a) => a.startsWith('--request-timeout')))).toEqual([])
  })

  it('leaks nothing, keeps credential files private, post removes them', () => {
    expect(s.shim.records().length).toBeGreaterThan(10)
    expect([...s.modes.keys()].some((p) => path.basename(p) === 'kubeconfig')).toBe(true)
    expectClean(s)
  })
})

describe('e2e faults: the gateway wait watches again after a transient failure', () => {
  let s: Scenario

  beforeAll(async () => {
    s = await run('rewatch')
  }, 240_000)

  it('restarts the failed watch after 1 s and still finds the address', () => {
    if (s.main.exitCode !== 0) console.log(s.main.stdout, s.main.stderr)
    expect(s.main.exitCode).toBe(0)
    expect(s.main.outputs['cluster1-gateway-address']).toBe(REWATCH_ADDRESS)
    // The step's group: the watch, its 503, the same watch again, then the address.
    const log = s.main.stdout.split('\n')
    const header = log.findIndex((l) => /^::group::✔ cluster1 · gateway address \(\d+\.\d s\): 192\.0\.2\.201$/.test(l))
    expect(header).toBeGreaterThanOrEqual(0)
    const group = log.slice(header + 1, log.indexOf('::endgroup::', header))
    const watch =
      '$ kubectl --context cluster1 get services -n istio-system --field-selector metadata.name=istio-eastwestgateway --watch'
    const started = group.flatMap((l, i) => (l.startsWith(`${watch} `) ? [i] : []))
    expect(started).toHaveLength(2)
    expect(group.slice(started[0], started[1]).join('\n')).toContain(
      'Error from server (ServiceUnavailable): the server is currently unable to handle the request'
    )
    expect(group.slice(started[1])).toContain(REWATCH_ADDRESS)
    // The simulator saw both watches; the second kubectl started a second (the pause) after the first watch failed.
    const watches = gatewayWatches(s.sim.cluster('cluster1'))
    expect(watches).toHaveLength(2)
    const runs = recorded(s, 'kubectl', 'cluster1', '--watch').sort((a, b) => a.startedAt - b.startedAt)
    expect(runs).toHaveLength(2)
    expect(runs[1].startedAt - watches[0].at).toBeGreaterThanOrEqual(1000 - 50)
    expectClean(s)
  })
})

describe('e2e faults: permanent failures fail within bounded time, clearly, without leaving a cluster half-done unsaid', () => {
  const runs: Record<string, Scenario> = {}

  beforeAll(async () => {
    for (const n of PERMANENT) runs[n] = await run(n)
  }, 240_000)

  it.each([
    ['expiredAtStart'],
    ['expiresHalfway'],
    ['installAlwaysFails'],
    ['unreachable'],
    ['forbidden'],
    ['noAddress']
  ])('%s: fails (exit ≠ 0) in bounded time, leaks nothing, leaves no process and no credential', (name) => {
    const s = runs[name]
    expect(s.main.exitCode).not.toBe(0)
    // The failed run then writes its diagnostics bundle (reads side by side, one try each within DIAGNOSTICS_READ):
    // the failure's own time is the run's without that group, which has its own bound.
    const diagnostics = diagnosticsMs(s)
    expect(diagnostics).toBeLessThan(DIAGNOSTICS_READ.timeoutMs + 5000)
    const bound = PERMANENT_TIMERS_MS[name] + WORK_MARGIN_MS
    console.log(
      `${name}: failed after ${s.main.durationMs} ms, diagnostics ${diagnostics} ms of it (bound ${bound} ms: timers ${PERMANENT_TIMERS_MS[name]} ms + margin ${WORK_MARGIN_MS} ms)`
    )
    expect(s.main.durationMs - diagnostics).toBeLessThan(bound)
    expect(bound).toBeLessThan(COMMAND_TIMEOUT_MS)
    expect(s.aliveAfterMain).toEqual([])
    expect(s.leftAfterMain).toEqual([])
    expect(s.error).not.toBe('')
    expectClean(s)
  })

  it('expired token before the run: the error names the cluster, the command and the 401; no cluster was changed', () => {
    const s = runs.expiredAtStart
    expect(s.error).toMatch(/kubectl --context cluster2 get \S+.* exited with code 1/)
    expect(s.error).toMatch(/stderr \(last lines\):\n(.*\n)*.*You must be logged in to the server/)
    expect(s.error).not.toMatch(/memcache\.go/)
    // Failing early is the clean stop: nothing was written anywhere.
    for (const c of s.sim.clusters) expect(writes(c)).toEqual([])
    // The summary says what went wrong and the fix; the diagnostics show what the clusters carry.
    expect(s.main.summary).toMatch(
      /failed before any cluster was changed\n\n### What went wrong\n\n\*\*cluster2 · read istio-system: [^\n]*\*\*\n\n\*\*Fix:\*\* Renew the cluster's kubeconfig/
    )
    expect(s.main.outputs['diagnostics-path']).toMatch(/diagnostics-istio-multicluster-/)
    // Not retried: a 401 does not pass by itself (the diagnostics' one-try reads aside).
    const reads = recorded(s, 'kubectl', 'cluster2').filter((r) => !r.argv.includes('wide') && !r.argv.includes('logs'))
    expect(reads.length).toBeLessThanOrEqual(2)
  })

  it('token expiring halfway: cluster2 fails with the 401 named; cluster1 finishes its own steps; the summary shows both', () => {
    const s = runs.expiresHalfway
    expect(s.error).toMatch(/^cluster2 · .+?: (kubectl|istioctl) .+ exited with code 1/)
    expect(s.error).toMatch(/\ncommand: (kubectl|istioctl) .*--context cluster2/)
    expect(s.error).toMatch(/\nstderr \(last lines\):\n(.*\n)*.*(Unauthorized|You must be logged in)/)
    const c1 = s.sim.cluster('cluster1')
    expect(c1.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
    expect(
      c1.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer.ingress
    ).toHaveLength(1)
    expect(c1.store.get('networking.istio.io/v1', 'Gateway', 'istio-system', 'cross-network-gateway')).toBeTruthy()
    expect(summaryRow(s, 'cluster2')).toMatch(/❌ failed \|/)
    expect(summaryRow(s, 'cluster2')).toContain('⏭️')
    // cluster1's own steps are done (it has its address); its verification waited on cluster2's secret: skipped.
    expect(overviewRow(s, 'cluster1')).toMatch(
      /^\| cluster1 \| ⏭️ skipped \| network1 \| `192\.0\.2\.\d+` \| [\d.]+ s \|$/
    )
    expect(overviewRow(s, 'cluster2')).toMatch(/^\| cluster2 \| ❌ failed \| network2 \| — \|/)
    expect(s.main.summary).toMatch(
      /### What went wrong\n\n\*\*cluster2 · [^\n]*\n\n\*\*Fix:\*\* Renew the cluster.s kubeconfig or token/
    )
    expect(JSON.parse(s.main.outputs.clusters).map((c: any) => [c.name, c.status])).toEqual([
      ['cluster1', 'skipped'],
      ['cluster2', 'failed']
    ])
  })

  it('istioctl install failing every time: retried 4 times with growing backoff, then the error names it', () => {
    const s = runs.installAlwaysFails
    expect(s.error).toMatch(
      /^cluster2 · control plane \(istioctl install\): istioctl install -y -f - --readiness-timeout 5m0s --context cluster2 exited with code 1 \(after 4 attempts\)/
    )
    expect(s.error).toContain('\ncommand: istioctl install -y -f - --readiness-timeout 5m0s --context cluster2\n')
    expect(s.error).toMatch(
      /\nstderr \(last lines\):\nError: failed to install manifests: the server is currently unable to handle the request/
    )
    const attempts = recorded(s, 'istioctl', 'install', 'cluster2').sort((a, b) => a.startedAt - b.startedAt)
    expect(attempts).toHaveLength(4)
    const gaps = attempts.slice(1).map((a, i) => a.startedAt - attempts[i].startedAt)
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(DEFAULT_RETRY.baseDelayMs * 2 ** i - 50))
    expect(s.sim.cluster('cluster1').store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
    expect(summaryRow(s, 'cluster2')).toMatch(/\| ❌ [\d.]+ s \| ⏭️ skipped \| ⏭️ skipped \|/)
  })

  it('unreachable cluster: retried with backoff (connection refused), then fails naming it; cluster1 untouched', () => {
    const s = runs.unreachable
    expect(s.error).toMatch(/kubectl --context cluster2 get \S+.* exited with code 1 \(after 4 attempts\)/)
    expect(s.error).toMatch(/stderr \(last lines\):\n(.*\n)*.*connect(ion)?.* refused/)
    const byCommand = new Map<string, number[]>()
    for (const r of recorded(s, 'kubectl', 'cluster2'))
      byCommand.set(r.argv.join(' '), [...(byCommand.get(r.argv.join(' ')) ?? []), r.startedAt])
    expect(byCommand.size).toBeGreaterThan(0)
    for (const starts of byCommand.values()) {
      starts.sort((a, b) => a - b)
      expect(starts.length).toBeLessThanOrEqual(4)
      starts
        .slice(1)
        .forEach((t, i) => expect(t - starts[i]).toBeGreaterThanOrEqual(DEFAULT_RETRY.baseDelayMs * 2 ** i - 50))
    }
    expect(Math.max(...[...byCommand.values()].map((x) => x.length))).toBe(4)
    expect(writes(s.sim.cluster('cluster1'))).toEqual([])
  })

  it('403: not retried; the error names cluster, step, command and the forbidden message; cluster1 finishes', () => {
    const s = runs.forbidden
    expect(s.error).toMatch(
      /^cluster2 · control plane \(istioctl install\): istioctl install -y -f - --readiness-timeout 5m0s --context cluster2 exited with code 1\n/
    )
    expect(s.error).toMatch(
      /\nstderr \(last lines\):\n(.*\n)*.*forbidden: User "kubernetes-admin" cannot patch resource "deployments"/
    )
    expect(recorded(s, 'istioctl', 'install', 'cluster2')).toHaveLength(1)
    expect(
      s.sim.cluster('cluster1').store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer
        .ingress
    ).toHaveLength(1)
    expect(summaryRow(s, 'cluster2')).toMatch(/❌ failed \|/)
  })

  it('no address within gateway-timeout: names cluster, step, the watch command and the events; cluster1 has its address', () => {
    const s = runs.noAddress
    expect(s.error).toMatch(
      /^cluster2 · gateway address: service istio-system\/istio-eastwestgateway got no external address \(ip or hostname\) within 3 s\./
    )
    expect(s.error).toContain('EnsuringLoadBalancer')
    expect(s.error).toMatch(
      /\ncommand: kubectl --context cluster2 get services -n istio-system --field-selector metadata.name=istio-eastwestgateway --watch/
    )
    expect(JSON.parse(s.main.outputs['gateway-addresses'])).toEqual({
      cluster1: expect.stringMatching(/^192\.0\.2\.\d+$/),
      cluster2: null
    })
    expect(summaryRow(s, 'cluster2')).toMatch(/\| ❌ [\d.]+ s \|/)
    expect(summaryRow(s, 'cluster1')).not.toContain('❌')
  })
})

describe('e2e faults: the release site and the releases API', () => {
  const runs: Record<string, Scenario> = {}
  beforeAll(async () => {
    for (const n of RELEASES) runs[n] = await run(n)
  }, 240_000)

  it.each([['checksum'], ['truncated'], ['unpublished'], ['rateLimited']])(
    '%s: fails with one error, caches nothing, changes no cluster, leaks nothing',
    (name) => {
      const s = runs[name]
      expect(s.main.exitCode).not.toBe(0)
      expect(errorAnnotations(s.main.stdout)).toHaveLength(1)
      expect(filesBelow(s.runner.toolCache)).toEqual([])
      for (const c of s.sim.clusters) expect(writes(c)).toEqual([])
      expect(s.shim.records().filter((r) => r.tool === 'istioctl')).toEqual([])
      expect(s.aliveAfterMain).toEqual([])
      expectClean(s)
    }
  )

  it('checksum mismatch: names the file, both digests, and deletes the download', () => {
    expect(runs.checksum.error).toMatch(
      /^checksum mismatch for istioctl-1\.31\.1-linux-amd64\.tar\.gz: \S+\.sha256 says [0-9a-f]{64}, the download is [0-9a-f]{64}; the file was deleted/
    )
  })

  it('truncated archive: caught by the checksum', () => {
    expect(runs.truncated.error).toMatch(
      /^checksum mismatch for istioctl-1\.31\.1-linux-amd64\.tar\.gz: .*\(a truncated download or a tampered mirror\)/
    )
  })

  it('404 for a tag without assets: says so and names the nearest published releases (not itself)', () => {
    expect(runs.unpublished.error).toMatch(
      /^istioctl 1\.30\.3 for linux-amd64 was not found \(HTTP 404 for \S+\); a release tag can exist before its assets are published\. The nearest published releases are 1\.30\.2, 1\.29\.4, 1\.31\.1\.$/
    )
  })

  it('rate limited: tells to pass github-token (or pin an exact version)', () => {
    expect(runs.rateLimited.error).toMatch(
      /GitHub API rate limit was exceeded.*pass "github-token".*or pin an exact "istio-version"/
    )
  })
})

describe('e2e: cancellation mid-install', () => {
  const runs: Record<string, Cancelled> = {}

  beforeAll(async () => {
    for (const n of CANCELLED) runs[n] = (await run(n)) as Cancelled
  }, 240_000)

  it.each([
    ['term', 'SIGTERM'],
    ['int', 'SIGINT']
  ])('%s: stops within seconds, its commands with it, and says so', (name, signal) => {
    const s = runs[name]
    // Both istioctl installs were running (sleeping in the simulator) and were stopped, not waited for.
    expectStoppedWhileRunning(name, signal as NodeJS.Signals, s)
    expect(s.main.exitCode).not.toBe(0)
    expect(s.requestsLater).toBe(s.requestsAtExit)
    for (const c of s.sim.clusters)
      expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeUndefined()
    expect(errorAnnotations(s.main.stdout).map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Cancelled: the mesh is incomplete/)])
    )
    expect(summaryRow(s, 'cluster1')).toMatch(/🚫 cancelled \|/)
    expect(summaryRow(s, 'cluster2')).toMatch(/🚫 cancelled \|/)
  })

  it('verifying: stops within seconds; no istioctl is started after the cancel, only the probe cleanup', () => {
    const s = runs.verifying
    // Both remote-clusters checks were running (sleeping in the simulator) and were stopped.
    expectStoppedWhileRunning('verifying', 'SIGTERM', s)
    expect(s.main.exitCode).not.toBe(0)
    // The one command a stopping run still starts: the delete of a probe namespace (exec afterStop), when the cancel
    // came while a gateway-forwarding probe ran beside the verification.
    const cleanup = (r: ProcessRecord) =>
      r.tool === 'kubectl' && /\bdelete namespace istio-multicluster-probe-[0-9a-f]+\b/.test(r.argv.join(' '))
    expect(s.mainRecords.filter((r) => r.startedAt > s.signalledAt + 50 && !cleanup(r))).toEqual([])
    expect(s.requestsLater).toBe(s.requestsAtExit)
    for (const c of s.sim.clusters) expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
    expect(summaryRow(s, 'cluster1')).toMatch(/🚫 cancelled \|/)
  })

  it('the kubeconfig exported for later steps (SIGINT run) stays after main and is removed by post', () => {
    const s = runs.int
    expect(s.leftAfterMain).toHaveLength(1)
    expect(s.main.exportedEnv.KUBECONFIG).toBe(path.join(s.runner.runnerTemp, s.leftAfterMain[0], 'kubeconfig'))
    expect(s.post.stdout).toContain(`Removed ${path.join(s.runner.runnerTemp, s.leftAfterMain[0])}`)
  })

  it("killed outright (SIGKILL, the runner's last resort): post still removes every credential file", () => {
    const s = runs.kill
    expect(contextsOf(s.runningAtSignal)).toEqual(['cluster1', 'cluster2'])
    expect(s.main.exitCode).toBe('SIGKILL')
    expect(s.leftAfterMain).toHaveLength(1)
    expect(fs.existsSync(path.join(s.runner.runnerTemp, s.leftAfterMain[0]))).toBe(false)
    expect(s.post.stdout).toContain(`Removed ${path.join(s.runner.runnerTemp, s.leftAfterMain[0])}`)
  })

  it.each([['term'], ['int'], ['kill'], ['verifying']])(
    '%s: leaves no credential behind, kept private while it existed',
    (name) => {
      const s = runs[name]
      expect([...s.modes.keys()].some((p) => path.basename(p) === 'kubeconfig')).toBe(true)
      expectClean(s)
    }
  )
})
