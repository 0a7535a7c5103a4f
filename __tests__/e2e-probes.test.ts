// End to end (issue 14): when an istiod does not see a peer as synced, the action runs a probe pod in that cluster
// and reports the cause and the fix — a loopback api-server, a firewall, a TLS-intercepting proxy — from what the pod
// found (test/sim/apiserver/network.js, probe-pods.js). Nothing stays behind in the clusters and no credential leaks.
import { afterEach, describe, expect, it } from '@jest/globals'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { errorAnnotations, findLeaks, leakPlaces, maskedValues, storedCredentials } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>

let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

/** The run's own error (the `::error::` without a title), unescaped. */
const runError = (r: Run) =>
  errorAnnotations(r.stdout)
    .filter((e) => !e.title)
    .map((e) => e.message)
    .join('\n')

const probeNamespaces = (s: Sim) =>
  s.clusters.flatMap((c) =>
    c.store
      .list('v1', 'Namespace')
      .map((n: any) => `${c.name}/${n.metadata.name as string}`)
      .filter((n) => n.includes('istio-multicluster-probe'))
  )

/** Installs on two clusters whose istiods give up on a peer after 2 s; `before` injects the fault. */
async function install(overrides: Record<string, Record<string, unknown>> = {}, before?: (s: Sim) => Promise<void>) {
  sim = await startSimulation({
    clusters: [
      { name: 'cluster1', remoteClusters: { timeoutMs: 2000 } },
      { name: 'cluster2', remoteClusters: { timeoutMs: 2000 } }
    ]
  })
  await before?.(sim)
  const runner = makeRunner()
  const run = await runAction({
    inputs: {
      clusters: sim.clustersInput(overrides),
      kubeconfig: sim.kubeconfig(),
      'istio-version': '1.30.3',
      'verify-timeout': '10s',
      ...sim.inputs
    },
    env: sim.env,
    runner
  })
  const needles = [CANARY, ...storedCredentials(sim), ...maskedValues(run.stdout)]
  return { run, leaks: findLeaks(leakPlaces(run, runner), needles), sim }
}

const port = (s: Sim, name: string) => new URL(s.cluster(name).reachableUrl).port

describe('e2e probes: verification says why a peer is not synced', () => {
  it('a loopback api-server: refused from inside the cluster, set api-server', async () => {
    const { run, leaks, sim: s } = await install({ cluster2: { 'api-server': undefined } })
    expect(run.exitCode).toBe(1)
    expect(runError(run).split('\n')[0]).toBe(
      `cluster1 · verify: cluster2 synced: cluster1's istiod cannot reach cluster2's API server https://127.0.0.1:${port(s, 'cluster2')}: connection refused from inside cluster1; it is a loopback address: set api-server for cluster2`
    )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)

  it("a firewall in front of cluster2's API server: the connection timed out, allow egress", async () => {
    const {
      run,
      leaks,
      sim: s
    } = await install({}, async (x) => {
      x.network.firewall('cluster1', 'cluster2', 'api-server')
    })
    expect(run.exitCode).toBe(1)
    const host = `127.0.0.3:${port(s, 'cluster2')}`
    expect(runError(run).split('\n')[0]).toBe(
      `cluster1 · verify: cluster2 synced: cluster1's istiod cannot reach cluster2's API server https://${host}: the connection timed out from inside cluster1; a firewall, security group or NetworkPolicy drops cluster1's traffic to ${host}, or cluster1 has no route to it: allow egress from cluster1's pods to it, or set api-server for cluster2 to an address cluster1 can reach`
    )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)

  it('a TLS-intercepting proxy: the certificate is not signed by the remote secret CA', async () => {
    const {
      run,
      leaks,
      sim: s
    } = await install({}, async (x) => {
      await x.network.intercept('cluster1', 'cluster2')
    })
    expect(run.exitCode).toBe(1)
    const host = `127.0.0.3:${port(s, 'cluster2')}`
    expect(runError(run).split('\n')[0]).toBe(
      `cluster1 · verify: cluster2 synced: cluster1's istiod cannot reach cluster2's API server https://${host}: the certificate it presents inside cluster1 is not signed by the CA in cluster2's remote secret; a TLS-intercepting proxy between cluster1 and cluster2, or another server at that address: exempt ${host} from TLS inspection, or set api-server for cluster2 to the address whose certificate cluster2's CA signed`
    )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)

  it("a revoked reader token: cluster2's API server answers 401, recreate the remote secret", async () => {
    const {
      run,
      leaks,
      sim: s
    } = await install({}, async (x) => {
      // Once cluster2's remote secret is in cluster1, its token stops working (its token Secret is deleted).
      x.cluster('cluster1').store.on('change', (e: any) => {
        if (
          e.type !== 'ADDED' ||
          e.object.kind !== 'Secret' ||
          e.object.metadata.name !== 'istio-remote-secret-cluster2'
        )
          return
        x.cluster('cluster2').store.delete(
          'v1',
          'Secret',
          'istio-system',
          'istio-reader-service-account-istio-remote-secret-token'
        )
      })
    })
    expect(run.exitCode).toBe(1)
    expect(runError(run).split('\n')[0]).toBe(
      `cluster1 · verify: cluster2 synced: cluster1's istiod cannot read cluster2's API server https://127.0.0.3:${port(s, 'cluster2')}: 401 Unauthorized: the remote secret's token is not accepted; the token was revoked or its service account deleted in cluster2: run the install again to recreate cluster2's remote secret`
    )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)
})
