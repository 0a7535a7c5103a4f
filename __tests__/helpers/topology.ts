// What each cluster must hold per topology, as the istio.io pages (Istio 1.29–1.31) say, asserted on the simulated
// clusters' stores. Shared by the e2e-topology-*.test.ts sequences.
import { expect } from '@jest/globals'
import { CANARY, startSimulation } from '../../test/sim/index.js'
import { findLeaks, leakPlaces } from '../../test/harness/inspect.js'

export type Sim = Awaited<ReturnType<typeof startSimulation>>
export type Cluster = Sim['clusters'][number]

const NS = 'istio-system'
const env = (d: any, name: string) =>
  d?.spec.template.spec.containers[0].env.find((e: any) => e.name === name)?.value as string | undefined

export const remoteSecretsIn = (c: Cluster): string[] =>
  c.store
    .list('v1', 'Secret', NS)
    .filter((s: any) => s.metadata.labels?.['istio/multiCluster'] === 'true')
    .map((s: any) => s.metadata.annotations['networking.istio.io/cluster'])
    .sort()
export const gatewayAddress = (c: Cluster): string | undefined =>
  c.store.get('v1', 'Service', NS, 'istio-eastwestgateway')?.status?.loadBalancer?.ingress?.[0]?.ip
const names = (cs: Cluster[]) => cs.map((c) => c.name).sort()

/**
 * A primary: its own istiod (EXTERNAL_ISTIOD=true when it serves remotes, "Configure cluster1 as a primary"), the
 * remote secrets of `secretsOf`, an east-west gateway exposing istiod when it has remotes, and expose-services only
 * with a peer on another network; on one network of primaries alone, no gateway at all ("Install Multi-Primary").
 */
export function expectPrimary(
  c: Cluster,
  o: { network: string; remotes?: Cluster[]; secretsOf: Cluster[]; crossNetwork: boolean }
): void {
  const ns = c.store.get('v1', 'Namespace', undefined, NS)
  expect(ns.metadata.labels['topology.istio.io/network']).toBe(o.network)
  expect(ns.metadata.annotations?.['topology.istio.io/controlPlaneClusters']).toBeUndefined()
  const istiod = c.store.get('apps/v1', 'Deployment', NS, 'istiod')
  expect(istiod).toBeTruthy()
  expect(env(istiod, 'CLUSTER_ID')).toBe(c.name)
  expect(env(istiod, 'EXTERNAL_ISTIOD')).toBe(o.remotes?.length ? 'true' : undefined)
  expect(remoteSecretsIn(c)).toEqual(names(o.secretsOf))
  const needsGateway = Boolean(o.remotes?.length) || o.crossNetwork
  expect(Boolean(gatewayAddress(c))).toBe(needsGateway)
  const gw = (name: string) => c.store.get('networking.istio.io/v1', 'Gateway', NS, name)
  expect(Boolean(gw('cross-network-gateway'))).toBe(o.crossNetwork)
  expect(Boolean(gw('istiod-gateway'))).toBe(Boolean(o.remotes?.length))
  if (o.remotes?.length) {
    // samples/multicluster/expose-istiod.yaml: 15012 and 15017 passed through, routed to istiod (443 for the webhook).
    expect(gw('istiod-gateway').spec.servers.map((s: any) => [s.port.number, s.tls.mode])).toEqual([
      [15012, 'PASSTHROUGH'],
      [15017, 'PASSTHROUGH']
    ])
    const vs = c.store.get('networking.istio.io/v1', 'VirtualService', NS, 'istiod-vs')
    expect(vs.spec.tls.map((t: any) => [t.match[0].port, t.route[0].destination.port.number])).toEqual([
      [15012, 15012],
      [15017, 443]
    ])
  }
}

/**
 * A remote ("Set the control plane cluster for cluster2", "Configure cluster2 as a remote"): istio-system annotated
 * with its primary, no istiod, the injector webhook on the primary's istiod through `istiod` = the primary's gateway
 * address, the reader account its primary's secret uses, no remote secret of anyone; an east-west gateway only with a
 * peer on another network, and never expose-services (the page applies it on the primary).
 */
export function expectRemote(c: Cluster, o: { network: string; primary: Cluster; gateway: boolean }): void {
  const ns = c.store.get('v1', 'Namespace', undefined, NS)
  expect(ns.metadata.labels['topology.istio.io/network']).toBe(o.network)
  expect(ns.metadata.annotations['topology.istio.io/controlPlaneClusters']).toBe(o.primary.name)
  expect(c.store.list('apps/v1', 'Deployment', NS).filter((d: any) => d.metadata.labels?.app === 'istiod')).toEqual([])
  expect(c.store.get('v1', 'ConfigMap', NS, 'istio-sidecar-injector')).toBeUndefined()
  const webhook = c.store.get(
    'admissionregistration.k8s.io/v1',
    'MutatingWebhookConfiguration',
    undefined,
    'istio-sidecar-injector'
  )
  expect(webhook.webhooks[0].clientConfig.service).toEqual({
    name: 'istiod',
    namespace: NS,
    path: `/inject/cluster/${c.name}/net/${o.network}`,
    port: 443
  })
  const svc = c.store.get('v1', 'Service', NS, 'istiod')
  expect(svc.spec.selector).toBeUndefined()
  const slice = c.store.get('discovery.k8s.io/v1', 'EndpointSlice', NS, 'istiod')
  expect(slice.endpoints[0].addresses).toEqual([gatewayAddress(o.primary)])
  expect(c.store.get('v1', 'ServiceAccount', NS, 'istio-reader-service-account')).toBeTruthy()
  // The chart's reader role for a remote (the primary's istiod patches its webhooks with that token); create-remote-
  // secret found the account and applied nothing over it (remote_secret.go getOrCreateServiceAccount).
  const reader = c.store.get(
    'rbac.authorization.k8s.io/v1',
    'ClusterRole',
    undefined,
    'istio-reader-clusterrole-istio-system'
  )
  expect(reader.rules).toContainEqual({
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations'],
    verbs: ['get', 'list', 'watch', 'update', 'patch']
  })
  expect(remoteSecretsIn(c)).toEqual([])
  expect(Boolean(gatewayAddress(c))).toBe(o.gateway)
  expect(c.store.get('networking.istio.io/v1', 'Gateway', NS, 'cross-network-gateway')).toBeUndefined()
  expect(c.store.get('networking.istio.io/v1', 'Gateway', NS, 'istiod-gateway')).toBeUndefined()
}

/** "Cleanup": istioctl uninstall --purge and the namespace gone; the webhooks and the reader RBAC with them. */
export function expectUninstalled(c: Cluster): void {
  expect(c.store.get('v1', 'Namespace', undefined, NS)).toBeUndefined()
  expect(c.store.list('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration')).toEqual([])
  expect(
    c.store.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'istio-reader-clusterrole-istio-system')
  ).toBeUndefined()
}

/** Every object in istio-system with its resourceVersion: equal before and after = nothing was written. */
export function istioSystemVersions(clusters: Cluster[]): string[][] {
  const kinds: [string, string][] = [
    ['apps/v1', 'Deployment'],
    ['v1', 'Service'],
    ['v1', 'ConfigMap'],
    ['v1', 'Secret'],
    ['discovery.k8s.io/v1', 'EndpointSlice'],
    ['networking.istio.io/v1', 'Gateway'],
    ['networking.istio.io/v1', 'VirtualService']
  ]
  return clusters.map((c) =>
    kinds.flatMap(([v, k]) =>
      c.store.list(v, k, NS).map((o: any) => `${k}/${o.metadata.name}@${o.metadata.resourceVersion}`)
    )
  )
}

/** Where a run could have left a credential, scanned for the simulation's canary. */
export const canaryHits = (run: any, runner: { runnerTemp: string }): string[] =>
  findLeaks(leakPlaces(run, runner), [CANARY])

/** A named step of a sequence: its name leads the failure, so a red run says which state broke. */
export async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (e) {
    if (e instanceof Error) e.message = `step "${name}":\n${e.message}`
    throw e
  }
}
