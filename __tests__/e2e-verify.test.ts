// End to end, the `verify: remote-clusters` step as real Istio answers it (test/sim/istioctl/remote-clusters.js):
// `istioctl remote-clusters` asks only the istiods of one revision (the default tag's unless --revision), one row per
// istiod pod and cluster, and a remote cluster is `syncing` before it is `synced`, or `timeout` once istiod gives up.
// The action must ask the revision it installed and require every pod to see every peer synced.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { errorAnnotations } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>
type Cluster = Sim['clusters'][number]

const istiodPods = (c: Cluster, rev: string) =>
  c.store
    .list('v1', 'Pod', 'istio-system')
    .filter((p: any) => p.metadata.labels?.app === 'istiod' && p.metadata.labels?.['istio.io/rev'] === rev)
    .map((p: any) => p.metadata.name as string)
    .sort()

/** The run's own error (the `::error::` without a title), unescaped. */
const runError = (r: Run) =>
  errorAnnotations(r.stdout)
    .filter((e) => !e.title)
    .map((e) => e.message)
    .join('\n')

/** The `::group::` line of a finished step: `✔ <cluster> · <title> (<s> s): <value>`. */
const stepLine = (r: Run, cluster: string, title: string) =>
  r.stdout.split('\n').find((l) => l.startsWith(`::group::✔ ${cluster} · ${title} (`)) ?? ''

/**
 * The first istiod pod (by name) of `rev` in `c` cannot reach `peer`'s API server: an `unreachableFrom` fault kept on
 * whichever pod sorts first, as pods come and go. That pod's rows come first in the table, so a reader that keeps the
 * last row per cluster sees the other pod's `synced`.
 */
function cutOffFirstPod(c: Cluster, rev: string, peer: string): { pod: () => string | undefined; stop: () => void } {
  let pinned: string | undefined
  let remove = () => {}
  const repin = () => {
    const first = istiodPods(c, rev)[0]
    if (first === pinned) return
    remove()
    pinned = first
    remove = first ? c.setFault({ kind: 'unreachableFrom', pod: first, cluster: peer }) : () => {}
  }
  const onChange = (e: any) => {
    if (e.object.kind === 'Pod' && e.object.metadata.labels?.app === 'istiod') repin()
  }
  c.store.on('change', onChange)
  repin()
  return { pod: () => pinned, stop: () => c.store.off('change', onChange) }
}

const base = (sim: Sim, extra: Record<string, string> = {}) => ({
  clusters: sim.clustersInput(),
  kubeconfig: sim.kubeconfig(),
  'istio-version': '1.30.3',
  ...sim.inputs,
  ...extra
})

describe('e2e verify: a canary revision beside the default one', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let first: Run
  let canary: Run
  let again: Run
  let c1: Cluster

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    c1 = sim.cluster('cluster1')
    first = await runAction({ inputs: base(sim, { verify: 'none' }), env: sim.env, runner })
    // The default revision's istiod in cluster1 cannot reach cluster2; canary-x's can. No default tag is created
    // for a revision installed beside an existing control plane (operator/pkg/webhook/webhook.go
    // detectIfTagWebhookIsNeeded), so without --revision istioctl keeps asking the old istiod.
    const old = c1.setFault({ kind: 'unreachableFrom', labels: { 'istio.io/rev': 'default' }, cluster: 'cluster2' })
    canary = await runAction({
      inputs: base(sim, { revision: 'canary-x', 'verify-timeout': '12s' }),
      env: sim.env,
      runner
    })
    old()
    // Now canary-x's first pod is the one cut off: the default istiod sees cluster2 fine, and must not be asked.
    const cut = cutOffFirstPod(c1, 'canary-x', 'cluster2')
    again = await runAction({
      inputs: base(sim, { revision: 'canary-x', 'verify-timeout': '12s' }),
      env: sim.env,
      runner
    })
    cut.stop()
  }, 240_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('installs canary-x beside the default control plane', () => {
    expect(first.exitCode).toBe(0)
    if (canary.exitCode !== 0) console.log(canary.stdout)
    for (const c of sim.clusters) {
      expect(istiodPods(c, 'default')).toHaveLength(1)
      expect(istiodPods(c, 'canary-x')).toHaveLength(1)
    }
  })

  it('verifies the revision it installed (--revision canary-x), not the default one that cannot see cluster2', () => {
    expect(canary.exitCode).toBe(0)
    expect(canary.outputs.verified).toBe('true')
    expect(canary.stdout).toMatch(/^\$ istioctl remote-clusters --revision canary-x --context cluster1$/m)
    expect(canary.stdout).not.toMatch(/^\$ istioctl remote-clusters --context/m)
    expect(stepLine(canary, 'cluster1', 'verify: cluster2 synced')).toMatch(
      new RegExp(`\\): cluster2: synced \\(in ${istiodPods(c1, 'canary-x')[0]}, revision canary-x\\)$`)
    )
  })

  it("fails when canary-x's istiod cannot see a peer, even though the default revision's can", () => {
    expect(again.exitCode).not.toBe(0)
    expect(again.outputs.verified).toBe('false')
    const pod = istiodPods(c1, 'canary-x')[0]
    expect(runError(again)).toMatch(
      new RegExp(
        `^cluster1 · verify: cluster2 synced: cluster1 does not see cluster2 as synced after 12 s \\(cluster2: timeout\\)\\n` +
          `- cluster2 in ${pod}: timeout \\(istiod gave up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default, without having read cluster2's API server\\)\\n` +
          `\\(asked the 1 istiod pod\\(s\\) of revision canary-x: ${pod}\\)\\n` +
          `- cluster2 → cluster1: istiod in cluster1 cannot reach cluster2's API server at https://127\\.0\\.0\\.3:\\d+`
      )
    )
    expect(again.summary).toMatch(/\| cluster1 \| · \| timeout \|/)
  })
})

describe('e2e verify: every istiod pod must see every peer', () => {
  const runs: Record<string, { sim: Sim; runner: ReturnType<typeof makeRunner>; run: Run; pod?: string }> = {}
  /** Two istiod replicas in each cluster; in cluster1 the first pod cannot reach cluster2. */
  const twoReplicas = async (name: string, extra: Record<string, string>, env?: Record<string, string>) => {
    const sim = await startSimulation()
    const runner = makeRunner()
    const cut = cutOffFirstPod(sim.cluster('cluster1'), 'default', 'cluster2')
    const run = await runAction({ inputs: base(sim, extra), env: { ...sim.env, ...env }, runner })
    cut.stop()
    runs[name] = { sim, runner, run, pod: cut.pod() }
  }
  const replicas = (env = '') =>
    `spec:\n  components:\n    pilot:\n      k8s:\n        replicaCount: 2\n${env ? `        env:\n        - name: PILOT_REMOTE_CLUSTER_TIMEOUT\n          value: ${env}\n` : ''}`

  beforeAll(async () => {
    await Promise.all([
      // istiod gives up after the simulated PILOT_REMOTE_CLUSTER_TIMEOUT (3 s), well within verify-timeout.
      twoReplicas('timeout', { 'operator-overlay': replicas(), 'verify-timeout': '10s' }),
      // istiod is told to wait 1m: at the 6 s deadline the cut-off pod is still syncing.
      twoReplicas('syncing', { 'operator-overlay': replicas('1m'), 'verify-timeout': '6s' })
    ])
  }, 240_000)

  afterAll(async () => {
    for (const r of Object.values(runs)) {
      await r.sim.stop()
      r.runner.cleanup()
    }
  })

  it.each([['timeout'], ['syncing']])(
    '%s: two pods per istiod, the cut-off one is named with its status; the run fails',
    (name) => {
      const { sim, run, pod } = runs[name]
      const pods = istiodPods(sim.cluster('cluster1'), 'default')
      expect(pods).toHaveLength(2)
      expect(pod).toBe(pods[0])
      expect(run.exitCode).not.toBe(0)
      expect(run.outputs.verified).toBe('false')
      const explained =
        name === 'timeout'
          ? "timeout \\(istiod gave up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default, without having read cluster2's API server\\)"
          : "still syncing at the deadline \\(istiod is still trying to read cluster2's API server; it gives up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default\\)"
      expect(runError(run)).toMatch(
        new RegExp(
          `^cluster1 · verify: cluster2 synced: cluster1 does not see cluster2 as synced after \\d+ s \\(cluster2: ${name} in ${pods[0]}, synced in ${pods[1]}\\)\\n` +
            `- cluster2 in ${pods[0]}: ${explained}\\n` +
            `\\(asked the 2 istiod pod\\(s\\) of revision default: ${pods[0]}, ${pods[1]}\\)\\n`
        )
      )
      // cluster2's pods both see cluster1: its verify step passed and names both.
      const c2pods = istiodPods(sim.cluster('cluster2'), 'default')
      expect(stepLine(run, 'cluster2', 'verify: cluster1 synced')).toMatch(
        new RegExp(`\\): cluster1: synced \\(in ${c2pods[0]}, ${c2pods[1]}, revision default\\)$`)
      )
      expect(run.summary).toContain(`| cluster1 | · | ${name} in ${pods[0]}, synced in ${pods[1]} |`)
    }
  )
})
