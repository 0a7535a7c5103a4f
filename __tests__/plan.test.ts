import { describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { parseConfig } from '../src/config/index.js'
import { buildInstallPlan, remoteSecretPairs } from '../src/steps/install-plan.js'
import { buildUninstallPlan } from '../src/steps/uninstall-plan.js'
import { STEP_KIND_INFO, StepKind } from '../src/steps/registry.js'
import { eastWestGateway } from '../src/manifests/istio-operator.js'
import { gatewayService } from '../src/manifests/gateway-service.js'
import type { ClusterState } from '../src/state.js'
import { Step } from '../src/steps/step.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

function config(n: number, extra: Record<string, string> = {}) {
  const names = Array.from({ length: n }, (_, i) => `c${i + 1}`)
  return parseConfig(
    source({
      clusters: names
        .map(
          (c, i) =>
            `- {name: ${c}, network: n${i + 1}${i === 0 ? ', api-server: "https://c1-control-plane:6443"' : ''}}`
        )
        .join('\n'),
      kubeconfig: names.map((c) => tokenKubeconfig(c)).join('---\n'),
      ...extra
    })
  )
}
const V = { major: 1, minor: 30, patch: 3 }

/** Which step of a cluster must end before which, as Istio's guide has it. */
const GUIDE: [StepKind, StepKind][] = [
  ['namespace', 'root-of-trust'],
  // The load balancer first: its Service right after the namespace, taken over by the gateway install.
  ['namespace', 'gateway-service'],
  ['gateway-service', 'eastwest-gateway'],
  ['eastwest-gateway', 'remove-gateway-service'],
  ['root-of-trust', 'control-plane'],
  ['control-plane', 'eastwest-gateway'],
  ['eastwest-gateway', 'gateway-address'],
  ['control-plane', 'expose-services'],
  ['namespace', 'remote-secret'],
  ['namespace', 'remote-secrets-in'],
  // A changed remote secret may restart istiod: that must be the istiod this run leaves behind.
  ['control-plane', 'remote-secrets-in'],
  ['control-plane', 'verify'],
  ['remote-secrets-in', 'verify']
]

/** Whether step `b` of a plan can only start after step `a` has ended: `a` is among its needs or afters, at any depth. */
function before(steps: Step[], a: string, b: string): boolean {
  const byId = new Map(steps.map((s) => [s.id, s]))
  expect(byId.has(a) && byId.has(b)).toBe(true)
  const seen = new Set<string>()
  const walk = (id: string): boolean => {
    const s = byId.get(id)!
    return [...s.needs, ...(s.after ?? [])].some((d) => d === a || (!seen.has(d) && (seen.add(d), walk(d))))
  }
  return walk(b)
}

describe('install plan', () => {
  it.each([2, 3])('for %i clusters has every ordered pair of remote secrets, N·(N−1)', (n) => {
    const steps = buildInstallPlan(config(n), V)
    const pairs = remoteSecretPairs(steps)
    expect(pairs).toHaveLength(n * (n - 1))
    const expected = []
    for (let a = 1; a <= n; a++) for (let b = 1; b <= n; b++) if (a !== b) expected.push([`c${a}`, `c${b}`])
    expect(pairs.sort()).toEqual(expected.sort())
  })

  // The order of Istio's "Install Multi-Primary on different networks" (README "What it does, in order", step 4):
  // istio-system with the network label → cacerts before istiod → control plane → east-west gateway → its address;
  // cross-network-gateway once Istio's CRDs are there; meanwhile the remote secrets; verify last.
  it('orders each cluster as the Istio guide does, and nothing waits for what it does not need', () => {
    const steps = buildInstallPlan(config(2), V)
    for (const c of ['c1', 'c2']) {
      for (const [a, b] of GUIDE)
        expect({ [`${c}/${a} before ${c}/${b}`]: before(steps, `${c}/${a}`, `${c}/${b}`) }).toEqual({
          [`${c}/${a} before ${c}/${b}`]: true
        })
      // The reverse never holds (no cycle), and a cluster's own install does not wait for its remote secrets.
      expect(before(steps, `${c}/control-plane`, `${c}/root-of-trust`)).toBe(false)
      expect(before(steps, `${c}/remote-secrets-in`, `${c}/control-plane`)).toBe(false)
      // Remote secrets and verify need no gateway: remote-clusters reports on istiod and the secrets only.
      for (const k of ['remote-secret', 'remote-secrets-in', 'verify'])
        expect(before(steps, `${c}/gateway-address`, `${c}/${k}`)).toBe(false)
    }
    // The secret of A is applied in B (every ordered pair); otherwise the clusters go side by side.
    expect(before(steps, 'c1/remote-secret', 'c2/remote-secrets-in')).toBe(true)
    expect(before(steps, 'c2/remote-secret', 'c1/remote-secrets-in')).toBe(true)
    // An address is not a working gateway (issue 14): each cluster probes its peer's gateway once it has one.
    expect(before(steps, 'c2/gateway-address', 'c1/gateway-forwarding')).toBe(true)
    expect(before(steps, 'c1/gateway-address', 'c2/gateway-forwarding')).toBe(true)
    const ownWork: StepKind[] = [
      'namespace',
      'gateway-service',
      'remove-gateway-service',
      'root-of-trust',
      'control-plane',
      'eastwest-gateway',
      'gateway-address',
      'expose-services',
      'remote-secret'
    ]
    const own = steps.filter((s) => s.cluster === 'c2' && ownWork.includes(s.kind))
    expect(own).toHaveLength(ownWork.length)
    expect(own.filter((s) => [...s.needs, ...(s.after ?? [])].some((d) => d.startsWith('c1/')))).toEqual([])
    // One of each per cluster: the steps named above, no other.
    const kinds = steps.filter((s) => s.cluster === 'c1').map((s) => s.kind)
    expect([...kinds].sort()).toEqual([...new Set([...GUIDE.flat(), 'gateway-forwarding'])].sort())
  })

  it('one gateway-forwarding step per cluster, probing every peer with a gateway on another network', () => {
    const steps = buildInstallPlan(
      topology(['name: c1, network: n1', 'name: c2, network: n2', 'name: c3, network: n2', 'name: c4, network: n3']),
      V
    )
    const probing = steps
      .filter((s) => s.kind === 'gateway-forwarding')
      .map((s) => [s.id, s.title, s.needs, s.action.type === 'wait-gateway-forwarding' ? s.action.peers : []])
    expect(probing).toEqual([
      [
        'c1/gateway-forwarding',
        "peers' gateways forward (c2, c3, c4)",
        ['c1/control-plane', 'c2/gateway-address', 'c3/gateway-address', 'c4/gateway-address'],
        ['c2', 'c3', 'c4']
      ],
      [
        'c2/gateway-forwarding',
        "peers' gateways forward (c1, c4)",
        ['c2/control-plane', 'c1/gateway-address', 'c4/gateway-address'],
        ['c1', 'c4']
      ],
      [
        'c3/gateway-forwarding',
        "peers' gateways forward (c1, c4)",
        ['c3/control-plane', 'c1/gateway-address', 'c4/gateway-address'],
        ['c1', 'c4']
      ],
      [
        'c4/gateway-forwarding',
        "peers' gateways forward (c1, c2, c3)",
        ['c4/control-plane', 'c1/gateway-address', 'c2/gateway-address', 'c3/gateway-address'],
        ['c1', 'c2', 'c3']
      ]
    ])
  })

  it("creates the gateway's Service right after the namespace, beside the control plane; removes it unless the gateway install succeeded", () => {
    const cfg = config(2, { 'gateway-service-annotations': 'service.beta.kubernetes.io/aws-load-balancer-type: nlb' })
    const steps = buildInstallPlan(cfg, V)
    const byId = (id: string) => steps.find((s) => s.id === id)!
    for (const c of ['c1', 'c2']) {
      const early = byId(`${c}/gateway-service`)
      expect(early.needs).toEqual([`${c}/namespace`])
      expect(early.after).toBeUndefined()
      // Side by side with the root of trust and the control plane: neither waits for the other.
      for (const k of ['root-of-trust', 'control-plane']) {
        expect(before(steps, `${c}/gateway-service`, `${c}/${k}`)).toBe(false)
        expect(before(steps, `${c}/${k}`, `${c}/gateway-service`)).toBe(false)
      }
      // The gateway install comes after it (an order, not a need: without it istioctl creates the Service itself).
      expect(byId(`${c}/eastwest-gateway`).after).toEqual([`${c}/gateway-service`])
      expect(byId(`${c}/eastwest-gateway`).needs).toEqual([`${c}/control-plane`])
      // What istioctl will apply, applied as istioctl applies it.
      const gateway = eastWestGateway({
        network: c === 'c1' ? 'n1' : 'n2',
        hub: cfg.hub,
        serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }
      })
      expect(early.action.type).toBe('server-side-apply')
      if (early.action.type !== 'server-side-apply') return
      expect(early.action.fieldManager).toBe('istio-operator')
      expect(yaml.load(early.action.manifest)).toEqual(yaml.load(yaml.dump(gatewayService(gateway, '1.30.3'))))
      const cleanup = byId(`${c}/remove-gateway-service`)
      expect(cleanup).toMatchObject({
        always: true,
        needs: [`${c}/gateway-service`, `${c}/eastwest-gateway`],
        action: {
          type: 'remove-unclaimed',
          target: { resource: 'service', names: ['istio-eastwestgateway'], namespace: 'istio-system' },
          unless: `${c}/eastwest-gateway`
        }
      })
    }
    // Nothing waits for the cleanup: verification needs the installs, not it.
    const traffic = buildInstallPlan(config(2, { verify: 'traffic' }), V)
    for (const s of traffic)
      expect([...s.needs, ...(s.after ?? [])].filter((d) => d.endsWith('/remove-gateway-service'))).toEqual([])
  })

  it('a cluster whose gateway Service exists gets nothing new for it, and mode: plan says so', () => {
    const steps = buildInstallPlan(config(2), V, new Map(), new Set(['c1']))
    expect(steps.find((s) => s.id === 'c1/gateway-service')!.action).toEqual({
      type: 'none',
      value: 'unchanged: istio-eastwestgateway exists'
    })
    expect(steps.some((s) => s.id === 'c1/remove-gateway-service')).toBe(false)
    expect(steps.find((s) => s.id === 'c2/gateway-service')!.action.type).toBe('server-side-apply')
    expect(steps.some((s) => s.id === 'c2/remove-gateway-service')).toBe(true)
    const plans = (gateway: ClusterState['gateway']) =>
      STEP_KIND_INFO['gateway-service'].plans({
        config: config(2),
        cluster: config(2).clusters[0],
        state: { gateway } as ClusterState,
        step: steps[0],
        version: '1.30.3',
        stale: []
      })
    expect(plans({ address: '192.0.2.1' })).toMatch(/^unchanged/)
    expect(plans(undefined)).toMatch(/^create .* so the cloud starts provisioning its load balancer/)
  })

  it('passes api-server to create-remote-secret --server, and carries every manifest', () => {
    const steps = buildInstallPlan(config(2), V)
    expect(steps.find((s) => s.id === 'c1/remote-secret')!.action).toEqual({
      type: 'create-remote-secret',
      server: 'https://c1-control-plane:6443'
    })
    expect(steps.find((s) => s.id === 'c2/remote-secret')!.action).toEqual({
      type: 'create-remote-secret',
      server: undefined
    })
    const cp = steps.find((s) => s.id === 'c2/control-plane')!.action
    // The guide's control-plane IstioOperator for cluster c2 on network n2 (mesh-id defaults to mesh1).
    const iop = yaml.load(cp.type === 'istioctl-install' ? cp.iop : '') as any
    expect(iop).toMatchObject({
      apiVersion: 'install.istio.io/v1alpha1',
      kind: 'IstioOperator',
      metadata: { name: 'control-plane' },
      spec: { values: { global: { meshID: 'mesh1', multiCluster: { clusterName: 'c2' }, network: 'n2' } } }
    })
  })

  it('drops the root-of-trust step with ca: none and the verify steps with verify: none', () => {
    const steps = buildInstallPlan(config(2, { ca: 'none', verify: 'none' }), V)
    expect(steps.some((s) => s.kind === 'root-of-trust' || s.kind === 'verify')).toBe(false)
    expect(steps.find((s) => s.id === 'c1/control-plane')!.needs).toEqual(['c1/namespace'])
  })

  it('every need names a step of the plan (no dangling edges, no cycles)', () => {
    const steps = buildInstallPlan(config(3), V)
    const ids = new Set(steps.map((s) => s.id))
    for (const s of steps) for (const n of s.needs) expect(ids.has(n)).toBe(true)
    const done = new Set<string>()
    let progress = true
    while (progress) {
      progress = false
      for (const s of steps)
        if (!done.has(s.id) && s.needs.every((n) => done.has(n))) (done.add(s.id), (progress = true))
    }
    expect(done.size).toBe(steps.length)
  })

  it('verify: traffic spreads helloworld v1/v2 over the clusters, checks from each, then cleans up whatever happened', () => {
    const steps = buildInstallPlan(config(3, { verify: 'traffic' }), V)
    // As the guide's check (samples/helloworld, samples/curl): the Service and curl everywhere, in a namespace with
    // injection on; one version per cluster, v1 in one and v2 in another, so an answer from both crossed clusters.
    // The images are the documented defaults of the verify-image-* inputs (README).
    const deployed = steps
      .filter((s) => s.kind === 'verify-deploy')
      .map((s) => {
        const objects = yaml.loadAll(s.action.type === 'apply' ? s.action.manifest : '') as any[]
        const deployments = objects.filter((o) => o.kind === 'Deployment')
        return {
          cluster: s.cluster,
          injection: objects.find((o) => o.kind === 'Namespace')?.metadata.labels,
          service: objects.find((o) => o.kind === 'Service')?.spec.ports,
          deployments: deployments.map((d) => `${d.metadata.name} ${d.spec.template.spec.containers[0].image}`).sort()
        }
      })
    const everywhere = { injection: { 'istio-injection': 'enabled' }, service: [{ port: 5000, name: 'http' }] }
    expect(deployed).toEqual([
      {
        cluster: 'c1',
        ...everywhere,
        deployments: [
          'curl docker.io/curlimages/curl:8.16.0',
          'helloworld-v1 docker.io/istio/examples-helloworld-v1:1.0'
        ]
      },
      {
        cluster: 'c2',
        ...everywhere,
        deployments: [
          'curl docker.io/curlimages/curl:8.16.0',
          'helloworld-v2 docker.io/istio/examples-helloworld-v2:1.0'
        ]
      },
      {
        cluster: 'c3',
        ...everywhere,
        deployments: [
          'curl docker.io/curlimages/curl:8.16.0',
          'helloworld-v1 docker.io/istio/examples-helloworld-v1:1.0'
        ]
      }
    ])
    const traffic = steps.find((s) => s.id === 'c1/verify-traffic')!
    expect(traffic.action).toEqual({ type: 'verify-traffic', versions: ['v1', 'v2'], timeoutMs: 180_000 })
    expect(traffic.needs).toEqual(['c1/verify-deploy', 'c2/verify-deploy', 'c3/verify-deploy', 'c1/verify'])
    const cleanup = steps.find((s) => s.id === 'c2/verify-cleanup')!
    expect(cleanup).toMatchObject({
      always: true,
      needs: ['c1/verify-traffic', 'c2/verify-traffic', 'c3/verify-traffic'],
      action: { type: 'delete-namespace', namespace: 'istio-multicluster-verify' }
    })
    expect(
      buildInstallPlan(config(2, { verify: 'traffic', 'verify-keep': 'true' }), V).some(
        (s) => s.kind === 'verify-cleanup'
      )
    ).toBe(false)
  })

  it('with a revision, the verify namespace selects it instead of istio-injection', () => {
    const steps = buildInstallPlan(config(2, { verify: 'traffic', revision: '1-30-3' }), V)
    const a = steps.find((s) => s.id === 'c1/verify-deploy')!.action
    expect(a.type === 'apply' && a.manifest).toContain('istio.io/rev: 1-30-3')
  })
})

/** A config from `- {…}` items (c1 gets an api-server), one kubeconfig context per name. */
function topology(items: string[], extra: Record<string, string> = {}) {
  const names = items.map((i) => /name: (\w+)/.exec(i)![1])
  return parseConfig(
    source({
      clusters: items.map((i) => `- {${i}}`).join('\n'),
      kubeconfig: names.map((c) => tokenKubeconfig(c)).join('---\n'),
      ...extra
    })
  )
}
const kindsOf = (steps: Step[], c: string) => steps.filter((s) => s.cluster === c).map((s) => s.kind)

describe('install plan per topology', () => {
  it('multi-primary on one network ("Install Multi-Primary"): secrets both ways, no gateway, no expose-services', () => {
    const steps = buildInstallPlan(topology(['name: c1, network: lan', 'name: c2, network: lan']), V)
    for (const c of ['c1', 'c2'])
      expect(kindsOf(steps, c)).toEqual([
        'namespace',
        'root-of-trust',
        'control-plane',
        'remote-secret',
        'remote-secrets-in',
        'verify'
      ])
    expect(remoteSecretPairs(steps).sort()).toEqual([
      ['c1', 'c2'],
      ['c2', 'c1']
    ])
    const iop = yaml.load((steps.find((s) => s.id === 'c1/control-plane')!.action as { iop: string }).iop) as any
    expect(iop.spec.values.global.externalIstiod).toBeUndefined()
  })

  it.each([
    ['one network', 'lan', false],
    ['different networks', 'n2', true]
  ])('primary-remote on %s: the page’s order across the two clusters', (_name, remoteNet, crossNetwork) => {
    const steps = buildInstallPlan(
      topology(['name: c1, network: lan', `name: c2, network: ${remoteNet}, role: remote, primary: c1`]),
      V
    )
    // On different networks each gateway is probed from the other cluster until it forwards.
    const gateway = crossNetwork ? ['gateway-service', 'eastwest-gateway', 'gateway-address', 'gateway-forwarding'] : []
    // Wherever an east-west gateway is installed, its load balancer is started first and removed if the install fails.
    expect(kindsOf(steps, 'c1')).toEqual([
      'namespace',
      'root-of-trust',
      'control-plane',
      'gateway-service',
      'eastwest-gateway',
      'gateway-address',
      ...(crossNetwork ? ['gateway-forwarding', 'expose-services'] : []),
      'expose-istiod',
      'remote-secrets-in',
      'verify',
      'remove-gateway-service'
    ])
    // No cacerts in a remote (no istiod: its workloads' certificates come from c1), no secret of anyone in it.
    expect(kindsOf(steps, 'c2')).toEqual([
      'namespace',
      'control-plane',
      ...gateway,
      'remote-secret',
      ...(crossNetwork ? ['remove-gateway-service'] : [])
    ])
    expect(remoteSecretPairs(steps)).toEqual([['c2', 'c1']])
    const byId = new Map(steps.map((s) => [s.id, s]))
    const primaryIop = yaml.load((byId.get('c1/control-plane')!.action as { iop: string }).iop) as any
    expect(primaryIop.spec.values.global).toMatchObject({ externalIstiod: true, network: 'lan' })
    expect(yaml.loadAll((byId.get('c1/expose-istiod')!.action as { manifest: string }).manifest)).toMatchObject([
      { kind: 'Gateway', metadata: { name: 'istiod-gateway' } },
      { kind: 'VirtualService', metadata: { name: 'istiod-vs' } }
    ])
    const ns = yaml.load((byId.get('c2/namespace')!.action as { manifest: string }).manifest) as any
    expect(ns.metadata).toEqual({
      name: 'istio-system',
      labels: { 'topology.istio.io/network': remoteNet },
      annotations: { 'topology.istio.io/controlPlaneClusters': 'c1' }
    })
    const remote = byId.get('c2/control-plane')!.action
    expect(remote).toMatchObject({ type: 'istioctl-install-remote', primary: 'c1', readinessWaits: 2 })
    const remoteIop = yaml.load((remote as { iop: string }).iop) as any
    expect(remoteIop.spec).toMatchObject({
      profile: 'remote',
      values: { istiodRemote: { injectionPath: `/inject/cluster/c2/net/${remoteNet}` } }
    })
    // The remote's install waits for the address it is given and for istiod to be reachable through the gateway.
    expect(byId.get('c2/control-plane')!.needs).toEqual(['c2/namespace', 'c1/gateway-address', 'c1/expose-istiod'])
    // Its gateway's pods are injected by c1's istiod, which needs c2's secret to patch c2's webhook.
    if (crossNetwork) expect(before(steps, 'c1/remote-secrets-in', 'c2/eastwest-gateway')).toBe(true)
    expect(byId.get('c1/verify')!.action).toMatchObject({ peers: ['c2'] })
  })

  it('two primaries and a remote: the remote’s secret goes to every primary, the primaries’ never to the remote', () => {
    const steps = buildInstallPlan(
      topology(['name: c1, network: n1', 'name: c2, network: n2', 'name: c3, network: n1, role: remote, primary: c1']),
      V
    )
    expect(remoteSecretPairs(steps).sort()).toEqual([
      ['c1', 'c2'],
      ['c2', 'c1'],
      ['c3', 'c1'],
      ['c3', 'c2']
    ])
    expect(kindsOf(steps, 'c2')).not.toContain('expose-istiod')
    const c2 = yaml.load((steps.find((s) => s.id === 'c2/control-plane')!.action as { iop: string }).iop) as any
    expect(c2.spec.values.global.externalIstiod).toBeUndefined()
  })

  it('verify: traffic deploys and curls in the remote too; a remote waits on its primary’s remote-clusters check', () => {
    const steps = buildInstallPlan(
      topology(['name: c1, network: lan', 'name: c2, network: lan, role: remote, primary: c1'], { verify: 'traffic' }),
      V
    )
    expect(kindsOf(steps, 'c2')).toEqual([
      'namespace',
      'control-plane',
      'remote-secret',
      'verify-deploy',
      'verify-traffic',
      'verify-cleanup'
    ])
    expect(steps.find((s) => s.id === 'c2/verify-traffic')!.needs).toContain('c1/verify')
    const ids = new Set(steps.map((s) => s.id))
    for (const s of steps)
      for (const n of [...s.needs, ...(s.after ?? [])])
        expect({ [s.id]: n, ok: ids.has(n) }).toEqual({ [s.id]: n, ok: true })
  })

  it('with a revision: the -rev expose-istiod template and a revisioned remote profile', () => {
    const steps = buildInstallPlan(
      topology(['name: c1, network: lan', 'name: c2, network: lan, role: remote, primary: c1'], { revision: 'canary' }),
      V
    )
    const byId = new Map(steps.map((s) => [s.id, s]))
    const [, vs] = yaml.loadAll((byId.get('c1/expose-istiod')!.action as { manifest: string }).manifest) as any[]
    expect(vs.metadata.name).toBe('istiod-vs-canary')
    expect(vs.spec.tls[0].route[0].destination.host).toBe('istiod-canary.istio-system.svc.cluster.local')
    const iop = yaml.load((byId.get('c2/control-plane')!.action as { iop: string }).iop) as any
    expect(iop.spec).toMatchObject({ profile: 'remote', revision: 'canary' })
  })
})

describe('install plan: data-plane ambient ("Install ambient multi-primary on different networks")', () => {
  const ambient = (n: number, extra: Record<string, string> = {}) => config(n, { 'data-plane': 'ambient', ...extra })
  const AMBIENT_GUIDE: [StepKind, StepKind][] = [
    ['namespace', 'root-of-trust'],
    ['root-of-trust', 'control-plane'],
    // istiod watches the Gateway API kinds it finds at start.
    ['gateway-api-crds', 'control-plane'],
    ['control-plane', 'eastwest-gateway'],
    ['eastwest-gateway', 'gateway-address'],
    ['namespace', 'remote-secret'],
    ['control-plane', 'remote-secrets-in'],
    ['remote-secrets-in', 'verify']
  ]

  it('has the page’s steps in its order in every cluster, and no sidecar-only step', () => {
    const steps = buildInstallPlan(ambient(2), V)
    for (const c of ['c1', 'c2']) {
      expect(steps.filter((s) => s.cluster === c).map((s) => s.kind)).toEqual([
        'namespace',
        'gateway-api-crds',
        'root-of-trust',
        'control-plane',
        'eastwest-gateway',
        'gateway-address',
        'remote-secret',
        'remote-secrets-in',
        'verify'
      ])
      for (const [a, b] of AMBIENT_GUIDE) expect(before(steps, `${c}/${a}`, `${c}/${b}`)).toBe(true)
    }
    expect(remoteSecretPairs(steps).sort()).toEqual([
      ['c1', 'c2'],
      ['c2', 'c1']
    ])
  })

  it('carries the page’s objects: the CRDs only when missing, the ambient IstioOperator, the HBONE Gateway', () => {
    const steps = buildInstallPlan(ambient(2), V)
    const of = (id: string) => steps.find((s) => s.id === id)!.action as any
    const crds = of('c1/gateway-api-crds')
    expect(crds.type).toBe('apply-if-missing')
    expect(crds.probe).toEqual({ resource: 'customresourcedefinitions', name: 'gateways.gateway.networking.k8s.io' })
    const docs = yaml.loadAll(crds.manifest) as any[]
    expect(docs.map((d) => d.kind)).toEqual([
      ...Array(8).fill('CustomResourceDefinition'),
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding'
    ])
    expect(docs.every((d) => d.metadata.labels['app.kubernetes.io/managed-by'] === 'istio-multicluster-action')).toBe(
      true
    )
    const iop = yaml.load(of('c2/control-plane').iop) as any
    expect(iop.spec.profile).toBe('ambient')
    expect(iop.spec.components.pilot.k8s.env).toEqual([{ name: 'AMBIENT_ENABLE_MULTI_NETWORK', value: 'true' }])
    expect(iop.spec.values.global).toEqual({ meshID: 'mesh1', multiCluster: { clusterName: 'c2' }, network: 'n2' })
    expect(of('c2/control-plane').readinessWaits).toBe(3)
    const gw = yaml.load(of('c2/eastwest-gateway').manifest) as any
    expect(gw).toMatchObject({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: {
        name: 'istio-eastwestgateway',
        namespace: 'istio-system',
        labels: { 'topology.istio.io/network': 'n2' }
      },
      spec: { gatewayClassName: 'istio-east-west' }
    })
    expect(steps.some((s) => s.kind === 'expose-services')).toBe(false)
  })

  it('gives no cluster an east-west gateway when all share one network (the alpha single-network case)', () => {
    const c = parseConfig(
      source({
        clusters: '- {name: c1, network: n1}\n- {name: c2, network: n1}',
        kubeconfig: ['c1', 'c2'].map((x) => tokenKubeconfig(x)).join('---\n'),
        'data-plane': 'ambient'
      })
    )
    const kinds = buildInstallPlan(c, V).map((s) => s.kind)
    expect(kinds).not.toContain('eastwest-gateway')
    expect(kinds).not.toContain('gateway-address')
    expect(kinds).toContain('remote-secrets-in')
  })

  it('plans no load balancer first: the Gateway’s Service is istiod’s deployment controller’s', () => {
    const kinds = buildInstallPlan(ambient(2), V).map((s) => s.kind)
    expect(kinds).not.toContain('gateway-service')
    expect(kinds).not.toContain('remove-gateway-service')
    // The sidecar plan of the same clusters has both.
    expect(buildInstallPlan(config(2), V).map((s) => s.kind)).toEqual(
      expect.arrayContaining(['gateway-service', 'remove-gateway-service'])
    )
  })

  it('grows by a cluster: every ordered pair of remote secrets, the new one with its own gateway', () => {
    const steps = buildInstallPlan(ambient(3), V)
    expect(remoteSecretPairs(steps)).toHaveLength(6)
    expect(steps.filter((s) => s.kind === 'eastwest-gateway').map((s) => s.cluster)).toEqual(['c1', 'c2', 'c3'])
  })

  it('verify: traffic enrols the namespace in ambient and makes helloworld global', () => {
    const steps = buildInstallPlan(ambient(2, { verify: 'traffic' }), V)
    const docs = yaml.loadAll((steps.find((s) => s.id === 'c1/verify-deploy')!.action as any).manifest) as any[]
    expect(docs[0].metadata.labels).toEqual({ 'istio.io/dataplane-mode': 'ambient' })
    expect(docs.find((d) => d.kind === 'Service').metadata.labels).toMatchObject({ 'istio.io/global': 'true' })
    // The sidecar plan keeps its injection label and no global label.
    const sidecar = buildInstallPlan(config(2, { verify: 'traffic' }), V)
    const plain = yaml.loadAll((sidecar.find((s) => s.id === 'c1/verify-deploy')!.action as any).manifest) as any[]
    expect(plain[0].metadata.labels).toEqual({ 'istio-injection': 'enabled' })
    expect(plain.find((d) => d.kind === 'Service').metadata.labels['istio.io/global']).toBeUndefined()
  })

  it('uninstall also removes the Gateway and, after istioctl uninstall, the CRDs the action labelled (when unused)', () => {
    const steps = buildUninstallPlan(ambient(2))
    const c1 = steps.filter((s) => s.cluster === 'c1')
    expect(c1.map((s) => s.kind)).toEqual(
      expect.arrayContaining(['remove-eastwest-gateway', 'uninstall', 'remove-gateway-api-crds'])
    )
    const crds = c1.find((s) => s.kind === 'remove-gateway-api-crds')!
    expect(crds.needs).toEqual(['c1/remove-eastwest-gateway', 'c1/uninstall'])
    expect(crds.action).toEqual({ type: 'remove-own-gateway-api-crds' })
    expect(buildUninstallPlan(config(2)).some((s) => s.kind.includes('gateway'))).toBe(false)
  })
})
