// `profile: remote` as the simulated istioctl renders it (istio-discovery @1.30.3), and how a remote's pods find the
// primary's istiod in the simulated clusters (remote-control-plane.js): each link of the chain, and what breaks it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startApiServer, createMesh, type SimCluster, type KubeObject } from '../apiserver/index.js'
import { remoteControlPlane } from '../apiserver/remote-control-plane.js'
import { routeTable } from '../apiserver/traffic.js'
import { mergeInputs } from '../istioctl/iop.js'
import { renderManifests } from '../istioctl/render.js'

const ISTIO = 'istio-system'
const render = (text: string) =>
  renderManifests(mergeInputs([{ name: 'iop.yaml', text }], [], '1.30.3'), { version: '1.30.3', rootCert: '' })
const objectsOf = (text: string, component: string) =>
  render(text).find((c) => c.component === component)?.objects ?? []
const remoteIop = (values: string) => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: remote
  values:
${values}`

describe('istioctl render: profile remote', () => {
  const pilot = objectsOf(
    remoteIop(`    istiodRemote:
      injectionPath: /inject/cluster/cluster2/net/network2
    global:
      remotePilotAddress: 172.18.0.200`),
    'Pilot'
  )
  const kinds = pilot.map((o: KubeObject) => `${o.kind}/${o.metadata.name}`)

  it('renders no istiod: no Deployment, no injector or mesh ConfigMap, no validation webhook, no istiod RBAC', () => {
    expect(kinds).toEqual([
      'ServiceAccount/istio-reader-service-account',
      'ClusterRole/istio-reader-clusterrole-istio-system',
      'ClusterRoleBinding/istio-reader-clusterrole-istio-system',
      'MutatingWebhookConfiguration/istio-sidecar-injector',
      'Service/istiod',
      'EndpointSlice/istiod'
    ])
  })

  it('points the injector at istiod on the injection path, and istiod at remotePilotAddress', () => {
    const mwc = pilot.find((o: KubeObject) => o.kind === 'MutatingWebhookConfiguration')
    expect(mwc.webhooks.map((w: any) => [w.name, w.clientConfig])).toEqual([
      [
        'rev.namespace.sidecar-injector.istio.io',
        { service: { name: 'istiod', namespace: ISTIO, path: '/inject/cluster/cluster2/net/network2', port: 443 } }
      ],
      [
        'namespace.sidecar-injector.istio.io',
        { service: { name: 'istiod', namespace: ISTIO, path: '/inject/cluster/cluster2/net/network2', port: 443 } }
      ]
    ])
    const svc = pilot.find((o: KubeObject) => o.kind === 'Service')
    expect(svc.spec).toEqual({
      ports: [
        { port: 15012, name: 'tcp-istiod', protocol: 'TCP' },
        { port: 443, targetPort: 15017, name: 'tcp-webhook', protocol: 'TCP' }
      ]
    })
    const slice = pilot.find((o: KubeObject) => o.kind === 'EndpointSlice')
    expect(slice).toMatchObject({
      addressType: 'IPv4',
      endpoints: [{ addresses: ['172.18.0.200'] }],
      metadata: { labels: { 'kubernetes.io/service-name': 'istiod' } }
    })
  })

  it('gives the reader what the primary’s istiod needs in a remote: config maps and the webhook configurations', () => {
    const role = pilot.find((o: KubeObject) => o.kind === 'ClusterRole')
    expect(role.rules.slice(-3)).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'watch', 'update'] },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations'],
        verbs: ['get', 'list', 'watch', 'update', 'patch']
      },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['validatingwebhookconfigurations'],
        verbs: ['get', 'list', 'watch', 'update']
      }
    ])
  })

  it('a host name becomes an ExternalName Service without EndpointSlice; injectionURL replaces the service', () => {
    const byName = objectsOf(remoteIop('    global:\n      remotePilotAddress: istiod.example.com'), 'Pilot')
    expect(byName.find((o: KubeObject) => o.kind === 'Service').spec).toMatchObject({
      type: 'ExternalName',
      externalName: 'istiod.example.com'
    })
    expect(byName.some((o: KubeObject) => o.kind === 'EndpointSlice')).toBe(false)
    const url = objectsOf(
      remoteIop('    istiodRemote:\n      injectionURL: https://istiod.example.com:15017/inject'),
      'Pilot'
    )
    expect(url.find((o: KubeObject) => o.kind === 'MutatingWebhookConfiguration').webhooks[0].clientConfig).toEqual({
      url: 'https://istiod.example.com:15017/inject'
    })
    // No remotePilotAddress: the chart renders neither the Service nor the EndpointSlice.
    expect(url.some((o: KubeObject) => o.kind === 'Service')).toBe(false)
  })

  it('a primary with values.global.externalIstiod runs istiod with EXTERNAL_ISTIOD=true; pilot.env wins over it', () => {
    const env = (values: string) =>
      objectsOf(`spec:\n  values:\n${values}`, 'Pilot')
        .find((o: KubeObject) => o.kind === 'Deployment')
        .spec.template.spec.containers[0].env.filter((e: any) => e.name === 'EXTERNAL_ISTIOD')
    expect(env('    global:\n      externalIstiod: true')).toEqual([{ name: 'EXTERNAL_ISTIOD', value: 'true' }])
    expect(
      env('    global:\n      externalIstiod: true\n    pilot:\n      env:\n        EXTERNAL_ISTIOD: "false"')
    ).toEqual([{ name: 'EXTERNAL_ISTIOD', value: 'false' }])
    expect(env('    global:\n      meshID: m')).toEqual([])
  })
})

describe('a remote served by its primary (remote-control-plane.js)', () => {
  let c1: SimCluster, c2: SimCluster
  const mesh = createMesh()
  const peer = (c: SimCluster) => mesh.byName(c.name)!
  const served = () => remoteControlPlane(mesh, peer(c2), 'default')

  const until = async (f: () => unknown) => {
    for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 20))
  }

  beforeAll(async () => {
    ;[c1, c2] = await Promise.all([
      startApiServer({ name: 'cluster1', index: 1, adminToken: 'admin-cluster1', mesh }),
      startApiServer({ name: 'cluster2', index: 2, adminToken: 'admin-cluster2', mesh })
    ])
    c1.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO } })
    for (const o of render(
      'spec:\n  values:\n    global:\n      externalIstiod: true\n      multiCluster:\n        clusterName: cluster1'
    ).flatMap((c) => c.objects))
      if (o.metadata.namespace === ISTIO || !o.metadata.namespace) c1.store.put(o)
    c1.store.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-eastwestgateway', namespace: ISTIO },
      spec: {
        type: 'LoadBalancer',
        selector: { istio: 'eastwestgateway' },
        ports: [{ name: 'tls-istiod', port: 15012 }]
      }
    })
    await until(() => c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')?.status?.loadBalancer?.ingress)
    const address = c1.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway').status.loadBalancer.ingress[0].ip
    c1.store.put({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'istiod-gateway', namespace: ISTIO },
      spec: {
        selector: { istio: 'eastwestgateway' },
        servers: [15012, 15017].map((number) => ({ port: { number, protocol: 'tls' }, tls: { mode: 'PASSTHROUGH' } }))
      }
    })
    c2.store.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ISTIO, annotations: { 'topology.istio.io/controlPlaneClusters': 'cluster1' } }
    })
    for (const o of render(remoteIop(`    global:\n      remotePilotAddress: ${address}`)).flatMap((c) => c.objects))
      c2.store.put(o)
  })
  afterAll(async () => {
    await Promise.all([c1, c2].filter(Boolean).map((c) => c.close()))
  })

  it('is not served until the primary holds a working remote secret for it', () => {
    expect(served()).toEqual({ problem: "cluster1's istiod has no working remote secret for cluster2" })
  })

  it('is served by the primary’s istiod once it does: injection and endpoints come from there', async () => {
    const token = c2.issueToken(ISTIO, 'istio-reader-service-account')
    const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: cluster2
  cluster:
    server: ${c2.reachableUrl}
    certificate-authority-data: ${Buffer.from(c2.caPem).toString('base64')}
contexts:
- name: cluster2
  context: {cluster: cluster2, user: cluster2}
current-context: cluster2
users:
- name: cluster2
  user: {token: ${token}}
`
    c1.store.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'istio-remote-secret-cluster2', namespace: ISTIO, labels: { 'istio/multiCluster': 'true' } },
      data: { cluster2: Buffer.from(kubeconfig).toString('base64') }
    })
    const s = served()
    expect('home' in s && [s.home.name, s.istiod.metadata.name]).toEqual(['cluster1', 'istiod'])
    // A gateway-style pod (image: auto) in the remote is injected from the primary's injector values.
    c2.store.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gw', namespace: ISTIO, labels: { app: 'gw' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'gw' } },
        template: {
          metadata: { labels: { app: 'gw' } },
          spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] }
        }
      }
    })
    await until(() => c2.store.list('v1', 'Pod', ISTIO).length)
    expect(c2.store.list('v1', 'Pod', ISTIO)[0].spec.containers[0].image).toBe(
      'registry.istio.io/release/proxyv2:1.30.3'
    )
    // A curl pod in an injected namespace of the remote has a sidecar from cluster1's istiod.
    c2.store.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'sample', labels: { 'istio-injection': 'enabled' } }
    })
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'curl', namespace: 'sample', labels: {} }, spec: {} }
    expect(routeTable(mesh, peer(c2), pod, 'sample', 'helloworld', 5000).sidecar).toBe(true)
  })

  it.each([
    [
      'the annotation names another cluster',
      () => {
        const ns = c2.store.get('v1', 'Namespace', undefined, ISTIO)
        c2.store.put({
          ...ns,
          metadata: { ...ns.metadata, annotations: { 'topology.istio.io/controlPlaneClusters': 'other' } }
        })
        return () => c2.store.put(ns)
      },
      "cluster2's istio-system is not annotated topology.istio.io/controlPlaneClusters=cluster1"
    ],
    [
      'istiod is not exposed on the gateway',
      () => {
        const gw = c1.store.get('networking.istio.io/v1', 'Gateway', ISTIO, 'istiod-gateway')
        c1.store.delete('networking.istio.io/v1', 'Gateway', ISTIO, 'istiod-gateway')
        return () => c1.store.put(gw)
      },
      'cluster1 does not expose istiod (15012, 15017) on its east-west gateway (expose-istiod.yaml)'
    ],
    [
      'the primary’s istiod runs without EXTERNAL_ISTIOD',
      () => {
        const d = c1.store.get('apps/v1', 'Deployment', ISTIO, 'istiod')
        const copy = structuredClone(d)
        copy.spec.template.spec.containers[0].env = copy.spec.template.spec.containers[0].env.filter(
          (e: any) => e.name !== 'EXTERNAL_ISTIOD'
        )
        c1.store.put(copy)
        return () => c1.store.put(d)
      },
      "cluster1's istiod runs without EXTERNAL_ISTIOD=true (values.global.externalIstiod)"
    ],
    [
      'the remote dials an address no gateway has',
      () => {
        const slice = c2.store.get('discovery.k8s.io/v1', 'EndpointSlice', ISTIO, 'istiod')
        c2.store.put({ ...slice, endpoints: [{ addresses: ['10.9.9.9'] }] })
        return () => c2.store.put(slice)
      },
      "no cluster's istio-eastwestgateway has the address 10.9.9.9 that cluster2 dials"
    ]
  ])('is not served when %s', (_name, breakIt, problem) => {
    const restore = breakIt()
    try {
      expect(served()).toEqual({ problem })
    } finally {
      restore()
    }
    expect('home' in served()).toBe(true)
  })
})
