// The ambient topology end to end, on simulated clusters with the bundled action, one shared simulation:
// install 2 (verify: traffic) → re-run (unchanged) → grow to 3 → plan (read-only) → a data-plane change refused →
// uninstall (CRDs kept while a route uses them) → uninstall again → the alpha single-network variant. Each state is
// asserted object by object against "Install ambient multi-primary on different networks" (istio.io, Istio 1.29–1.31)
// and "Verify the ambient installation".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { findLeaks, leakPlaces, storedCredentials } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>
type Cluster = Sim['clusters'][number]

const GW_API = 'gateway.networking.k8s.io/v1'
const env = (o: any, container = 0) =>
  Object.fromEntries(
    (o?.spec?.template?.spec?.containers?.[container]?.env ?? []).map((e: any) => [e.name, e.value])
  ) as Record<string, string>
const remoteSecretsIn = (c: Cluster) =>
  c.store
    .list('v1', 'Secret', 'istio-system')
    .filter((s: any) => s.metadata.labels?.['istio/multiCluster'] === 'true')
    .map((s: any) => s.metadata.annotations['networking.istio.io/cluster'])
    .sort()

/** What the page says each cluster holds once it is a member: every object, field by field. */
function expectAmbientMember(c: Cluster, network: string, peers: Cluster[]): void {
  expect(c.store.get('v1', 'Namespace', undefined, 'istio-system').metadata.labels['topology.istio.io/network']).toBe(
    network
  )
  // "Deploy Gateway API CRDs": installed (the action's pinned bundle) because the cluster had none.
  const crd = c.store.get(
    'apiextensions.k8s.io/v1',
    'CustomResourceDefinition',
    undefined,
    'gateways.gateway.networking.k8s.io'
  )
  expect(crd.metadata.annotations['gateway.networking.k8s.io/bundle-version']).toBe('v1.5.1')
  expect(crd.metadata.labels['app.kubernetes.io/managed-by']).toBe('istio-multicluster-action')
  // Applied server-side as the action's field manager (kubectl apply --server-side).
  expect(crd.metadata.managedFields.map((e: any) => [e.manager, e.operation])).toEqual([
    ['istio-multicluster-action', 'Apply']
  ])
  // "Configure cluster1 as a primary": profile ambient + AMBIENT_ENABLE_MULTI_NETWORK, meshID/clusterName/network.
  const istiod = c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')
  expect(env(istiod)).toMatchObject({
    AMBIENT_ENABLE_MULTI_NETWORK: 'true',
    PILOT_ENABLE_AMBIENT: 'true',
    CLUSTER_ID: c.name
  })
  const values = JSON.parse(c.store.get('v1', 'ConfigMap', 'istio-system', 'istio-sidecar-injector').data.values)
  expect(values.global).toMatchObject({ meshID: 'mesh1', network, multiCluster: { clusterName: c.name } })
  const ztunnel = c.store.get('apps/v1', 'DaemonSet', 'istio-system', 'ztunnel')
  expect(env(ztunnel)).toMatchObject({ NETWORK: network, ISTIO_META_CLUSTER_ID: c.name })
  expect(c.store.get('apps/v1', 'DaemonSet', 'istio-system', 'istio-cni-node')).toBeTruthy()
  expect(c.store.get('v1', 'ConfigMap', 'istio-system', 'istio').data.mesh).toContain('key: istio.io/global')
  // "Install an ambient east-west gateway": gen-eastwest-gateway.sh --ambient's Gateway, and what istiod made of it.
  const gw = c.store.get(GW_API, 'Gateway', 'istio-system', 'istio-eastwestgateway')
  expect(gw.metadata.labels).toEqual({ 'topology.istio.io/network': network })
  expect(gw.spec).toEqual({
    gatewayClassName: 'istio-east-west',
    listeners: [
      {
        name: 'mesh',
        port: 15008,
        protocol: 'HBONE',
        tls: { mode: 'Terminate', options: { 'gateway.istio.io/tls-terminate-mode': 'ISTIO_MUTUAL' } }
      }
    ]
  })
  const svc = c.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
  expect(svc.spec.type).toBe('LoadBalancer')
  expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.appProtocol])).toEqual([
    ['status-port', 15021, 'tcp'],
    ['mesh', 15008, 'hbone']
  ])
  // istiod's deployment controller's (server-side apply as istio.io/gateway-controller), not the action's: ambient
  // plans no load-balancer-first Service (the controller skips a Service of that name it did not label).
  expect(svc.metadata.labels['gateway.istio.io/managed']).toBe('istio.io-eastwest-controller')
  expect(svc.metadata.managedFields.map((e: any) => e.manager)).not.toContain('istio-operator')
  expect(svc.metadata.managedFields.map((e: any) => e.manager)).toContain('istio.io/gateway-controller')
  const address = svc.status.loadBalancer.ingress[0].ip
  expect(address).toBeTruthy()
  expect(gw.status.addresses).toEqual([{ type: 'IPAddress', value: address }])
  expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istio-eastwestgateway').status.readyReplicas).toBe(1)
  // The sidecar topology's pieces are not there: no IstioOperator gateway, no cross-network-gateway.
  expect(c.store.get('networking.istio.io/v1', 'Gateway', 'istio-system', 'cross-network-gateway')).toBeUndefined()
  // "Enable Endpoint Discovery": a remote secret of every other member.
  expect(remoteSecretsIn(c)).toEqual(peers.map((p) => p.name).sort())
}

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (e) {
    if (e instanceof Error) e.message = `step "${name}":\n${e.message}`
    throw e
  }
}

describe('e2e topology: ambient multi-primary on different networks', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let c1: Cluster, c2: Cluster, c3: Cluster
  const inputsFor = (
    names: string[],
    extra: Record<string, string> = {},
    networks: Record<string, Record<string, unknown>> = {}
  ) => {
    const all = sim.clustersInput(networks).split('\n- ')
    const items = sim.clusters
      .map((c, i) => [c.name, i ? `- ${all[i]}` : all[i]] as const)
      .filter(([n]) => names.includes(n))
    return {
      clusters: items.map(([, t]) => t).join('\n'),
      kubeconfig: sim.kubeconfig(names),
      'istio-version': '1.30.3',
      'data-plane': 'ambient',
      ...sim.inputs,
      ...extra
    }
  }
  const run = (
    names: string[],
    extra: Record<string, string> = {},
    networks: Record<string, Record<string, unknown>> = {}
  ) => runAction({ inputs: inputsFor(names, extra, networks), env: sim.env, runner })
  const ok = (r: Run) => {
    if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
    expect(r.exitCode).toBe(0)
  }

  beforeAll(async () => {
    sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2' }, { name: 'cluster3' }] })
    ;[c1, c2, c3] = sim.clusters
    runner = makeRunner()
  })
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('install 2 (traffic) → re-run → grow to 3 → plan → refuse sidecar → uninstall twice → one network', async () => {
    await step('installs two clusters as the page says, and helloworld answers across the HBONE gateways', async () => {
      const r = await run(['cluster1', 'cluster2'], { verify: 'traffic' })
      ok(r)
      expectAmbientMember(c1, 'network1', [c2])
      expectAmbientMember(c2, 'network2', [c1])
      expect(c3.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()
      expect(r.outputs.verified).toBe('true')
      expect(JSON.parse(r.outputs['gateway-addresses'])).toEqual({ cluster1: '192.0.2.1', cluster2: '192.0.2.2' })
      expect(r.stdout).toMatch(/✔ cluster1 · verify: helloworld v1, v2 answer .*: v1, v2 answered/)
      expect(r.stdout).toMatch(/✔ cluster1 · Gateway API CRDs v1\.5\.1 .*: installed \d+ objects/)
      // The remote secrets' reader tokens and the kubeconfigs' credentials reach no log, output, file or summary.
      expect(findLeaks(leakPlaces(r, runner), [CANARY, ...storedCredentials(sim)])).toEqual([])
    })

    await step('re-runs unchanged: no object in istio-system written again, the CRDs kept', async () => {
      const versions = () =>
        [c1, c2].map((c) =>
          [
            ['apps/v1', 'Deployment'],
            ['apps/v1', 'DaemonSet'],
            ['v1', 'Service'],
            ['v1', 'ConfigMap'],
            ['v1', 'Secret'],
            [GW_API, 'Gateway']
          ].flatMap(([v, k]) =>
            c.store.list(v, k, 'istio-system').map((o: any) => `${k}/${o.metadata.name}@${o.metadata.resourceVersion}`)
          )
        )
      const before = versions()
      const again = await run(['cluster1', 'cluster2'])
      ok(again)
      expect(again.summary).toContain('— ✅ ready (unchanged)')
      expect(again.stdout).toMatch(
        /✔ cluster1 · Gateway API CRDs .*: kept \(gateways\.gateway\.networking\.k8s\.io exists\)/
      )
      expect(versions()).toEqual(before)
    })

    await step(
      'mode: check on the running ambient mesh passes; its HBONE gateways are not probed on 15443',
      async () => {
        const r = await run(['cluster1', 'cluster2'], { mode: 'check' })
        ok(r)
        const checks = JSON.parse(r.outputs.checks) as { id: string; status: string; message: string }[]
        expect(checks.filter((c) => c.status === 'fail' || c.status === 'warn')).toEqual([])
        expect(checks.filter((c) => c.id.startsWith('gateway-reachable/')).map((c) => [c.id, c.status])).toEqual([
          ['gateway-reachable/cluster1/cluster2', 'skip'],
          ['gateway-reachable/cluster2/cluster1', 'skip']
        ])
        expect(checks.find((c) => c.id === 'gateway-reachable/cluster1/cluster2')?.message).toMatch(
          /HBONE on port 15008/
        )
        expect(checks.find((c) => c.id === 'api-server-reachable/cluster1/cluster2')?.status).toBe('pass')
      }
    )

    await step('grows by a third cluster on its own network: remote secrets both ways with every member', async () => {
      ok(await run(['cluster1', 'cluster2', 'cluster3']))
      expectAmbientMember(c1, 'network1', [c2, c3])
      expectAmbientMember(c2, 'network2', [c1, c3])
      expectAmbientMember(c3, 'network3', [c1, c2])
    })

    await step('plans read-only, and refuses to switch the running mesh to sidecars', async () => {
      const before = sim.clusters.map((c) => c.store.snapshot())
      const r = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'plan' })
      ok(r)
      const plan = JSON.parse(r.outputs.plan)
      expect(plan.blocker).toBeNull()
      expect(plan.clusters.map((c: any) => c.current.dataPlane)).toEqual(['ambient', 'ambient', 'ambient'])
      const kinds = plan.clusters[0].actions.map((a: any) => a.step)
      expect(kinds).toEqual(expect.arrayContaining(['gateway-api-crds', 'control-plane', 'eastwest-gateway']))
      expect(kinds).not.toContain('expose-services')
      expect(kinds).not.toContain('gateway-service')
      expect(kinds).not.toContain('remove-gateway-service')
      expect(plan.clusters[0].actions.find((a: any) => a.step === 'gateway-address').does).toBe(
        'wait for the address (now 192.0.2.1)'
      )
      const sidecar = await run(['cluster1', 'cluster2', 'cluster3'], { 'data-plane': 'sidecar' })
      expect(sidecar.exitCode).not.toBe(0)
      expect(sidecar.stdout).toContain(
        'cluster1, cluster2, cluster3 run the ambient data plane (DaemonSet ztunnel in istio-system), not data-plane "sidecar"'
      )
      expect(sidecar.stdout).toContain('uninstall first (mode: uninstall)')
      expect(sim.clusters.map((c) => c.store.snapshot())).toEqual(before)
    })

    await step(
      'uninstalls: Istio, the Gateway and the CRDs the action added, kept while a route uses them',
      async () => {
        // Someone's HTTPRoute in cluster3, made with the CRDs the action installed: deleting them would delete it.
        c3.store.put({
          apiVersion: GW_API,
          kind: 'HTTPRoute',
          metadata: { name: 'shop', namespace: 'default' },
          spec: { parentRefs: [{ name: 'ingress' }] }
        })
        const gatewayCrds = (c: Cluster) =>
          c.store
            .list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
            .filter((d: any) => d.metadata.name.endsWith('gateway.networking.k8s.io'))
        const r = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'uninstall' })
        ok(r)
        for (const c of sim.clusters) {
          expect(c.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()
          expect(
            c.store.list('apps/v1', 'DaemonSet').filter((d: any) => d.metadata.namespace === 'istio-system')
          ).toEqual([])
          expect(
            c.store
              .list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
              .filter((d: any) => d.metadata.name.endsWith('istio.io'))
          ).toEqual([])
          expect(c.store.list(GW_API, 'Gateway')).toEqual([])
        }
        for (const c of [c1, c2]) {
          expect(gatewayCrds(c)).toEqual([])
          expect(c.store.list('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy')).toEqual([])
        }
        expect(gatewayCrds(c3)).toHaveLength(8)
        expect(c3.store.get(GW_API, 'HTTPRoute', 'default', 'shop')).toBeTruthy()
        expect(r.stdout).toMatch(
          /✔ cluster3 · remove the Gateway API CRDs the action installed, unless in use .*: kept 8 CRDs: 1 object\(s\) still use them \(httproute\.gateway\.networking\.k8s\.io\/shop\)/
        )
        // Once the route is gone, uninstalling again removes them; on the clean clusters it changes nothing.
        c3.store.delete(GW_API, 'HTTPRoute', 'default', 'shop')
        ok(await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'uninstall' }))
        expect(gatewayCrds(c3)).toEqual([])
      }
    )

    await step('on one network (alpha): a warning, no east-west Gateway, ztunnel to ztunnel', async () => {
      const oneNetwork = { cluster2: { network: 'network1' } }
      const r = await run(['cluster1', 'cluster2'], { verify: 'traffic' }, oneNetwork)
      ok(r)
      expect(r.stdout).toContain(
        '::warning::data-plane "ambient": clusters cluster1, cluster2 share network "network1". Ambient multicluster on one network is alpha'
      )
      for (const c of [c1, c2]) {
        expect(c.store.get('apps/v1', 'DaemonSet', 'istio-system', 'ztunnel')).toBeTruthy()
        expect(c.store.list(GW_API, 'Gateway')).toEqual([])
        expect(c.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')).toBeUndefined()
      }
      expect(r.stdout).toMatch(/✔ cluster2 · verify: helloworld v1, v2 answer .*: v1, v2 answered/)
      ok(await run(['cluster1', 'cluster2'], { mode: 'uninstall' }, oneNetwork))
    })
  }, 600_000)
})
