// The simulator's ambient multicluster: istiod's deployment controller for an `istio-east-west` Gateway
// (test/sim/apiserver/eastwest-gateway.js) and the ambient traffic model (test/sim/apiserver/traffic-ambient.js).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createMesh, startApiServer, type KubeObject, type SimCluster } from '../apiserver/index.js'
import { runCurl } from '../apiserver/traffic.js'

const ISTIO = 'istio-system'
const NS = 'sample'
const ROOT = 'a'.repeat(64)
const GW = 'gateway.networking.k8s.io/v1'
let mesh: ReturnType<typeof createMesh>
let c1: SimCluster
let c2: SimCluster

async function until(cond: () => unknown, ms = 5000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const deployment = (ns: string, name: string, labels: Record<string, string>, container: any, extra: any = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, labels, ...extra },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [container] } }
  }
})

/** The istiod of the ambient profile with the page's AMBIENT_ENABLE_MULTI_NETWORK (or without it). */
const istiod = (sim: SimCluster, multiNetwork = true) =>
  deployment(
    ISTIO,
    'istiod',
    { app: 'istiod', 'istio.io/rev': 'default' },
    {
      name: 'discovery',
      image: 'docker.io/istio/pilot:1.30.3',
      env: [
        { name: 'CLUSTER_ID', value: sim.name },
        { name: 'PILOT_ENABLE_AMBIENT', value: 'true' },
        ...(multiNetwork ? [{ name: 'AMBIENT_ENABLE_MULTI_NETWORK', value: 'true' }] : [])
      ]
    },
    { annotations: { 'sim.istio.io/root-cert-sha256': ROOT } }
  )

/** gen-eastwest-gateway.sh --network <n> --ambient. */
const eastWest = (network: string): KubeObject => ({
  apiVersion: GW,
  kind: 'Gateway',
  metadata: { name: 'istio-eastwestgateway', namespace: ISTIO, labels: { 'topology.istio.io/network': network } },
  spec: {
    gatewayClassName: 'istio-east-west',
    listeners: [
      {
        name: 'mesh',
        port: 15008,
        protocol: 'HBONE',
        tls: { mode: 'Terminate', options: { 'gateway.istio.io/tls-terminate-mode': 'ISTIO_MUTUAL' } }
      }
    ]
  }
})

function remoteSecret(into: SimCluster, of: SimCluster) {
  const token = of.issueToken(ISTIO, 'istio-reader-service-account')
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: ${of.name}
  cluster: {server: "${of.reachableUrl}", certificate-authority-data: ${Buffer.from(of.caPem).toString('base64')}}
contexts:
- name: ${of.name}
  context: {cluster: ${of.name}, user: ${of.name}}
current-context: ${of.name}
users:
- name: ${of.name}
  user: {token: ${token}}
`
  into.store.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `istio-remote-secret-${of.name}`,
      namespace: ISTIO,
      labels: { 'istio/multiCluster': 'true' },
      annotations: { 'networking.istio.io/cluster': of.name }
    },
    data: { [of.name]: Buffer.from(kubeconfig).toString('base64') }
  })
}

function install(sim: SimCluster, network: string, version: string) {
  const s = sim.store
  s.put({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ISTIO, labels: { 'topology.istio.io/network': network } }
  })
  s.put({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio-sidecar-injector', namespace: ISTIO },
    data: {
      values: JSON.stringify({
        global: { hub: 'docker.io/istio', tag: '1.30.3', network, multiCluster: { clusterName: sim.name } }
      })
    }
  })
  s.put({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ztunnel', namespace: ISTIO }, spec: {} })
  s.put(eastWest(network))
  // cluster1 keeps the ready istiod of the tests above (a put would drop its status).
  if (!s.get('apps/v1', 'Deployment', ISTIO, 'istiod')) s.put(istiod(sim))
  s.put({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS, labels: { 'istio.io/dataplane-mode': 'ambient' } }
  })
  s.put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'helloworld', namespace: NS, labels: { app: 'helloworld', 'istio.io/global': 'true' } },
    spec: { type: 'ClusterIP', ports: [{ port: 5000, name: 'http' }], selector: { app: 'helloworld' } }
  })
  s.put(
    deployment(
      NS,
      `helloworld-${version}`,
      { app: 'helloworld', version },
      {
        name: 'helloworld',
        image: `docker.io/istio/examples-helloworld-${version}:1.0`,
        ports: [{ containerPort: 5000 }]
      }
    )
  )
  s.put(deployment(NS, 'curl', { app: 'curl' }, { name: 'curl', image: 'curlimages/curl:8.16.0' }))
}

const peer = (sim: SimCluster) => mesh.byName(sim.name)!
const curlPod = (sim: SimCluster) => sim.store.list('v1', 'Pod', NS).find((p) => p.metadata.labels.app === 'curl')!
/** The helloworld versions four calls from `sim` reach. */
function seen(sim: SimCluster): string[] {
  const out = new Set<string>()
  for (let i = 0; i < 4; i++) {
    const r = runCurl(mesh, peer(sim), curlPod(sim), ['-sS', 'http://helloworld.sample:5000/hello'])
    out.add(/Hello version: (v\d)/.exec(r.stdout)?.[1] ?? `exit ${r.exitCode}: ${r.stderr.trim()}`)
  }
  return [...out].sort()
}
/** Change one object for the length of `fn`. */
async function whileChanged(
  sim: SimCluster,
  apiVersion: string,
  kind: string,
  ns: string | undefined,
  name: string,
  change: (o: any) => void,
  fn: () => void | Promise<void>
) {
  const before = sim.store.get(apiVersion, kind, ns, name)
  const after = structuredClone(before)
  change(after)
  sim.store.put(after)
  try {
    await fn()
  } finally {
    const { resourceVersion: _rv, ...meta } = sim.store.get(apiVersion, kind, ns, name).metadata
    sim.store.put({ ...before, metadata: { ...before.metadata, ...meta, labels: before.metadata.labels } })
  }
}

beforeAll(async () => {
  mesh = createMesh()
  ;[c1, c2] = await Promise.all([
    startApiServer({
      name: 'cluster1',
      index: 1,
      adminToken: 'admin-cluster1',
      mesh,
      lb: { mode: 'ip', delayMs: 200 }
    }),
    startApiServer({ name: 'cluster2', index: 2, adminToken: 'admin-cluster2', mesh, lb: { mode: 'ip', delayMs: 200 } })
  ])
})
afterAll(async () => {
  await Promise.all([c1, c2].filter(Boolean).map((c) => c.close()))
})

describe("istiod's deployment controller for an istio-east-west Gateway", () => {
  it('renders nothing until an istiod with AMBIENT_ENABLE_MULTI_NETWORK is ready', async () => {
    c1.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO } })
    c1.store.put(eastWest('network1'))
    c1.store.put(istiod(c1, false))
    await until(() => c1.store.get('apps/v1', 'Deployment', ISTIO, 'istiod')?.status?.readyReplicas)
    expect(c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')).toBeUndefined()
    expect(c1.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway').status).toBeUndefined()
  })

  it('then the ServiceAccount, Deployment and LoadBalancer Service of the waypoint template, owned by the Gateway', async () => {
    c1.store.put(istiod(c1, true))
    await until(() => c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway'))
    const gw = c1.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway')
    const owner = [{ apiVersion: GW, kind: 'Gateway', name: 'istio-eastwestgateway', uid: gw.metadata.uid }]
    const svc = c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')
    expect(svc.spec).toMatchObject({
      type: 'LoadBalancer',
      selector: { 'gateway.networking.k8s.io/gateway-name': 'istio-eastwestgateway' },
      ports: [
        { name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' },
        { name: 'mesh', port: 15008, protocol: 'TCP', appProtocol: 'hbone' }
      ]
    })
    expect(svc.metadata.labels).toEqual({
      'topology.istio.io/network': 'network1',
      'gateway.networking.k8s.io/gateway-name': 'istio-eastwestgateway',
      'gateway.networking.k8s.io/gateway-class-name': 'istio-east-west',
      'gateway.istio.io/managed': 'istio.io-eastwest-controller'
    })
    const dep = c1.store.get('apps/v1', 'Deployment', ISTIO, 'istio-eastwestgateway')
    expect(dep.metadata.labels['gateway.istio.io/managed']).toBe('istio.io-eastwest-controller')
    // Server-side applied by istiod (field manager istio.io/gateway-controller): it owns what it applied.
    for (const o of [svc, dep])
      expect(o.metadata.managedFields.map((e: any) => [e.manager, e.operation])).toEqual([
        ['istio.io/gateway-controller', 'Apply']
      ])
    expect(Object.keys(svc.metadata.managedFields[0].fieldsV1['f:spec'])).toEqual(
      expect.arrayContaining(['f:type', 'f:selector', 'f:ports'])
    )
    expect(dep.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'ISTIO_META_NETWORK', value: 'network1' },
        { name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: 'network1' }
      ])
    )
    for (const o of [svc, dep, c1.store.get('v1', 'ServiceAccount', ISTIO, 'istio-eastwestgateway')])
      expect(o.metadata.ownerReferences).toEqual(owner)
    // Before the load balancer answers: the in-cluster addresses ("both" types); then only the external one.
    expect(c1.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway').status.addresses).toEqual([
      { type: 'IPAddress', value: svc.spec.clusterIP },
      { type: 'Hostname', value: 'istio-eastwestgateway.istio-system.svc.cluster.local' }
    ])
    await until(() => c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway').status?.loadBalancer?.ingress)
    expect(c1.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway').status.addresses).toEqual([
      { type: 'IPAddress', value: '192.0.2.1' }
    ])
    // Reconciling again writes nothing that has not changed.
    const rv = c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway').metadata.resourceVersion
    c1.store.put(c1.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway'))
    expect(c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway').metadata.resourceVersion).toBe(rv)
  })

  it('deleting the Gateway removes what it rendered; deleting its CRD removes every Gateway', async () => {
    c1.store.delete(GW, 'Gateway', ISTIO, 'istio-eastwestgateway')
    expect(c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')).toBeUndefined()
    expect(c1.store.get('apps/v1', 'Deployment', ISTIO, 'istio-eastwestgateway')).toBeUndefined()
    c1.store.put({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gateways.gateway.networking.k8s.io' },
      spec: {
        group: 'gateway.networking.k8s.io',
        scope: 'Namespaced',
        names: { kind: 'Gateway', plural: 'gateways', singular: 'gateway', listKind: 'GatewayList' },
        versions: [{ name: 'v1', served: true, storage: true }]
      }
    })
    c1.store.put(eastWest('network1'))
    c1.store.delete(
      'apiextensions.k8s.io/v1',
      'CustomResourceDefinition',
      undefined,
      'gateways.gateway.networking.k8s.io'
    )
    expect(c1.store.list(GW, 'Gateway')).toEqual([])
  })

  it('leaves alone a Service of its name that it did not label (canManage), and renders the rest', async () => {
    c1.store.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-eastwestgateway', namespace: ISTIO, labels: { app: 'mine' } },
      spec: { type: 'ClusterIP', ports: [{ name: 'x', port: 1 }], selector: { app: 'mine' } }
    })
    const rv = c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway').metadata.resourceVersion
    c1.store.put(eastWest('network1'))
    await until(() => c1.store.get('apps/v1', 'Deployment', ISTIO, 'istio-eastwestgateway'))
    const svc = c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')
    expect(svc.metadata.resourceVersion).toBe(rv)
    expect(svc.spec.type).toBe('ClusterIP')
    expect(svc.metadata.labels).toEqual({ app: 'mine' })
    c1.store.delete(GW, 'Gateway', ISTIO, 'istio-eastwestgateway')
    c1.store.delete('v1', 'Service', ISTIO, 'istio-eastwestgateway')
  })
})

/** The load balancer's address, once it has one (a re-created Service gets a new one: controllers.js). */
const lbAddress = (c: SimCluster) =>
  c.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')?.status?.loadBalancer?.ingress?.[0]?.ip ?? '(none yet)'

describe('ambient traffic across clusters', () => {
  beforeAll(async () => {
    install(c1, 'network1', 'v1')
    install(c2, 'network2', 'v2')
    remoteSecret(c1, c2)
    remoteSecret(c2, c1)
    await until(() =>
      [c1, c2].every(
        (c) =>
          c.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway')?.status?.addresses?.[0]?.value === lbAddress(c) &&
          c.store.list('v1', 'Pod', NS).length === 2
      )
    )
  })

  it('reaches both versions from each cluster through the HBONE gateways', () => {
    expect([seen(c1), seen(c2)]).toEqual([
      ['v1', 'v2'],
      ['v1', 'v2']
    ])
  })

  it('sees a remote service only when it is labelled istio.io/global=true', async () => {
    await whileChanged(
      c2,
      'v1',
      'Service',
      NS,
      'helloworld',
      (s) => delete s.metadata.labels['istio.io/global'],
      () => {
        expect([seen(c1), seen(c2)]).toEqual([['v1'], ['v1', 'v2']])
      }
    )
  })

  it("needs the remote Gateway's load-balancer address in its status, unless both are on one network", async () => {
    await whileChanged(
      c2,
      'v1',
      'Service',
      ISTIO,
      'istio-eastwestgateway',
      (s) => delete s.status,
      async () => {
        await until(() => c2.store.get(GW, 'Gateway', ISTIO, 'istio-eastwestgateway').status.addresses.length === 2)
        expect(seen(c1)).toEqual(['v1'])
        await whileChanged(
          c2,
          'v1',
          'Namespace',
          undefined,
          ISTIO,
          (n) => (n.metadata.labels['topology.istio.io/network'] = 'network1'),
          () => {
            expect(seen(c1)).toEqual(['v1', 'v2'])
          }
        )
      }
    )
  })

  it('needs AMBIENT_ENABLE_MULTI_NETWORK on the client side to cross networks', async () => {
    await whileChanged(
      c1,
      'apps/v1',
      'Deployment',
      ISTIO,
      'istiod',
      (d) => {
        d.spec.template.spec.containers[0].env = d.spec.template.spec.containers[0].env.filter(
          (e: any) => e.name !== 'AMBIENT_ENABLE_MULTI_NETWORK'
        )
      },
      () => {
        expect(seen(c1)).toEqual(['v1'])
      }
    )
  })

  it('needs both namespaces in ambient; with no endpoint reachable ztunnel resets the connection', async () => {
    await whileChanged(
      c2,
      'v1',
      'Namespace',
      undefined,
      NS,
      (n) => delete n.metadata.labels['istio.io/dataplane-mode'],
      async () => {
        // cluster1 cannot reach v2 (not in ambient there); cluster2's curl is in no mesh: kube-proxy, local only.
        expect([seen(c1), seen(c2)]).toEqual([['v1'], ['v2']])
        await whileChanged(
          c1,
          'apps/v1',
          'Deployment',
          NS,
          'helloworld-v1',
          (d) => (d.spec.replicas = 0),
          async () => {
            await until(() => !c1.store.list('v1', 'Pod', NS).some((p) => p.metadata.labels.app === 'helloworld'))
            expect(seen(c1)).toEqual(['exit 56: curl: (56) Recv failure: Connection reset by peer'])
          }
        )
      }
    )
  })
})
