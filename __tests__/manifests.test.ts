import { describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { IstioOperator, controlPlane, eastWestGateway, readinessWaits } from '../src/manifests/istio-operator.js'
import { APPLY_MARGIN_MS, goDuration, installLimitMs, unreadyPods } from '../src/istioctl/readiness.js'
import { crossNetworkGateway, istioNamespace, toYaml } from '../src/manifests/kubernetes.js'
import { deepMerge } from '../src/manifests/merge.js'
import { gatewayService } from '../src/manifests/gateway-service.js'
import { exposeIstiod, remoteControlPlane, withRemotePilotAddress } from '../src/manifests/remote.js'

// The reference's manifests (shared/reference/istio-multicluster.md), written out by hand: the renderers must match them
// field by field, plus spec.hub (1.30.x would otherwise pull from registry.istio.io/release, retired in December 2026).
const REFERENCE_CONTROL_PLANE = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
spec:
  hub: docker.io/istio
  values:
    global:
      meshID: mesh1
      multiCluster:
        clusterName: cluster1
      network: network1
`
const REFERENCE_EASTWEST = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: eastwest
spec:
  revision: ""
  profile: empty
  hub: docker.io/istio
  components:
    ingressGateways:
      - name: istio-eastwestgateway
        label:
          istio: eastwestgateway
          app: istio-eastwestgateway
          topology.istio.io/network: network1
        enabled: true
        k8s:
          env:
            - name: ISTIO_META_REQUESTED_NETWORK_VIEW
              value: network1
          service:
            ports:
              - {name: status-port, port: 15021, targetPort: 15021}
              - {name: tls, port: 15443, targetPort: 15443}
              - {name: tls-istiod, port: 15012, targetPort: 15012}
              - {name: tls-webhook, port: 15017, targetPort: 15017}
  values:
    gateways:
      istio-ingressgateway:
        injectionTemplate: gateway
    global:
      network: network1
`
const REFERENCE_EXPOSE = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: cross-network-gateway
  namespace: istio-system
spec:
  selector:
    istio: eastwestgateway
  servers:
    - port: {number: 15443, name: tls, protocol: TLS}
      tls:
        mode: AUTO_PASSTHROUGH
      hosts:
        - "*.local"
`
const roundTrip = (o: object) => yaml.load(toYaml(o))

describe('manifests', () => {
  it('control plane equals the reference IstioOperator', () => {
    expect(
      roundTrip(controlPlane({ meshId: 'mesh1', clusterName: 'cluster1', network: 'network1', hub: 'docker.io/istio' }))
    ).toEqual(yaml.load(REFERENCE_CONTROL_PLANE))
  })

  it('control plane carries the revision and merges an overlay without letting it touch the owned fields', () => {
    const iop = controlPlane({
      meshId: 'm',
      clusterName: 'c2',
      network: 'n2',
      hub: 'my-mirror.example/istio',
      revision: '1-30-3',
      overlay: {
        spec: {
          meshConfig: { accessLogFile: '/dev/stdout' },
          values: { global: { logging: { level: 'default:debug' } } }
        }
      }
    })
    expect(iop.metadata.name).toBe('control-plane')
    expect(iop.spec).toEqual({
      hub: 'my-mirror.example/istio',
      revision: '1-30-3',
      meshConfig: { accessLogFile: '/dev/stdout' },
      values: {
        global: { logging: { level: 'default:debug' }, meshID: 'm', multiCluster: { clusterName: 'c2' }, network: 'n2' }
      }
    })
  })

  it('east-west gateway equals what gen-eastwest-gateway.sh --network network1 prints', () => {
    expect(roundTrip(eastWestGateway({ network: 'network1', hub: 'docker.io/istio' }))).toEqual(
      yaml.load(REFERENCE_EASTWEST)
    )
  })

  it('east-west gateway takes the revision and the service annotations', () => {
    const iop = eastWestGateway({
      network: 'n2',
      hub: 'my-mirror.example/istio',
      revision: 'canary',
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }
    }) as any
    expect(iop.spec.revision).toBe('canary')
    expect(iop.spec.hub).toBe('my-mirror.example/istio')
    const gw = iop.spec.components.ingressGateways[0]
    expect(gw.k8s.serviceAnnotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' })
    expect(gw.label['topology.istio.io/network']).toBe('n2')
    expect(gw.k8s.env).toEqual([{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: 'n2' }])
    expect(iop.spec.values.global.network).toBe('n2')
  })

  // manifests/charts/gateways/istio-ingress/templates/service.yaml @1.30.3 rendered by hand for the east-west IOP, with
  // the labels istioctl install adds (operator/pkg/install/install.go getOwnerLabels).
  it('east-west gateway Service equals what istioctl install renders from that IOP', () => {
    const iop = eastWestGateway({
      network: 'network1',
      hub: 'docker.io/istio',
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }
    })
    expect(roundTrip(gatewayService(iop, '1.30.3'))).toEqual(
      yaml.load(`
apiVersion: v1
kind: Service
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: "nlb"
  labels:
    istio: eastwestgateway
    app: istio-eastwestgateway
    topology.istio.io/network: network1
    release: istio
    istio.io/rev: "default"
    install.operator.istio.io/owning-resource: eastwest
    install.operator.istio.io/owning-resource-namespace: istio-system
    operator.istio.io/component: "IngressGateways"
    app.kubernetes.io/name: "istio-ingressgateway"
    app.kubernetes.io/managed-by: "Helm"
    app.kubernetes.io/instance: "istio"
    app.kubernetes.io/part-of: "istio"
    app.kubernetes.io/version: "1.30.3"
    helm.sh/chart: istio-ingress-1.30.3
    operator.istio.io/managed: Reconcile
    operator.istio.io/version: 1.30.3
spec:
  type: LoadBalancer
  selector:
    istio: eastwestgateway
    app: istio-eastwestgateway
    topology.istio.io/network: network1
  ports:
    - name: status-port
      port: 15021
      targetPort: 15021
    - name: tls
      port: 15443
      targetPort: 15443
    - name: tls-istiod
      port: 15012
      targetPort: 15012
    - name: tls-webhook
      port: 15017
      targetPort: 15017
`)
    )
  })

  it('east-west gateway Service: the revision labels it; without annotations it has none', () => {
    const svc = gatewayService(eastWestGateway({ network: 'n2', hub: 'h', revision: 'canary' }), '1.29.6')
    expect(svc.metadata.labels).toMatchObject({
      'istio.io/rev': 'canary',
      'operator.istio.io/version': '1.29.6',
      'helm.sh/chart': 'istio-ingress-1.29.6',
      'topology.istio.io/network': 'n2'
    })
    expect(svc.metadata).not.toHaveProperty('annotations')
    expect(
      gatewayService(eastWestGateway({ network: 'n2', hub: 'h', serviceAnnotations: {} }), '1.30.3').metadata
    ).not.toHaveProperty('annotations')
  })

  it('cross-network-gateway equals expose-services.yaml, v1alpha3 before Istio 1.24', () => {
    expect(roundTrip(crossNetworkGateway({ major: 1, minor: 30, patch: 3 }))).toEqual(yaml.load(REFERENCE_EXPOSE))
    expect(crossNetworkGateway({ major: 1, minor: 23, patch: 0 }).apiVersion).toBe('networking.istio.io/v1alpha3')
  })

  it('namespace carries the network label', () => {
    expect(istioNamespace('network2')).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'istio-system', labels: { 'topology.istio.io/network': 'network2' } }
    })
  })

  it('serializes several objects as one multi-document stream', () => {
    const docs = yaml.loadAll(toYaml(istioNamespace('a'), istioNamespace('b')))
    expect(docs).toHaveLength(2)
  })

  it('deep merge merges maps and replaces lists, without mutating its inputs', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 1 }
    expect(deepMerge(base, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 })
    expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: 1 })
  })

  it('readinessWaits: the longest chain of enabled components istioctl waits for in turn', () => {
    const cp = (overlay?: Record<string, unknown>) =>
      controlPlane({ meshId: 'm', clusterName: 'c', network: 'n', hub: 'h', overlay })
    // Base → Pilot → IngressGateways (default profile).
    expect(readinessWaits(cp())).toBe(3)
    // The east-west gateway IOP (profile empty): its gateway only.
    expect(readinessWaits(eastWestGateway({ network: 'n', hub: 'h' }))).toBe(1)
    // An egress gateway waits beside the ingress gateway, not after it.
    expect(
      readinessWaits(cp({ spec: { components: { egressGateways: [{ name: 'istio-egressgateway', enabled: true }] } } }))
    ).toBe(3)
    expect(readinessWaits(cp({ spec: { profile: 'minimal' } }))).toBe(2)
    expect(
      readinessWaits(
        cp({ spec: { components: { ingressGateways: [{ name: 'istio-ingressgateway', enabled: false }] } } })
      )
    ).toBe(2)
    // Without Pilot the gateways start at once, beside Base.
    expect(readinessWaits(cp({ spec: { components: { pilot: { enabled: false } } } }))).toBe(1)
    // Ambient: Base → CNI → Ztunnel.
    expect(readinessWaits(cp({ spec: { profile: 'ambient' } }))).toBe(3)
    const empty: IstioOperator = {
      apiVersion: 'install.istio.io/v1alpha1',
      kind: 'IstioOperator',
      metadata: { name: 'x' },
      spec: { profile: 'empty' }
    }
    expect(readinessWaits(empty)).toBe(0)
  })

  it('installLimitMs: the readiness timeout per wait plus a margin, so istioctl fails before the action kills it', () => {
    expect(installLimitMs(5 * 60_000, 3)).toBe(15 * 60_000 + APPLY_MARGIN_MS)
    expect(installLimitMs(2000, 1)).toBe(2000 + APPLY_MARGIN_MS)
    // Nothing to wait for still leaves one timeout's room (istioctl checks readiness of whatever it applied).
    expect(installLimitMs(2000, 0)).toBe(2000 + APPLY_MARGIN_MS)
    expect(installLimitMs(5 * 60_000, 3)).toBeGreaterThan(3 * 5 * 60_000)
  })

  it('goDuration prints what istioctl prints back', () => {
    expect([500, 2000, 90_000, 300_000, 5_400_000, 1500].map(goDuration)).toEqual([
      '500ms',
      '2s',
      '1m30s',
      '5m0s',
      '1h30m0s',
      '1.5s'
    ])
  })

  it('unreadyPods: reason, image and message of each waiting container; ready pods are left out', () => {
    const pods = {
      items: [
        {
          metadata: { name: 'istiod-abc' },
          status: {
            conditions: [{ type: 'Ready', status: 'False', message: 'containers with unready status: [discovery]' }],
            containerStatuses: [
              {
                name: 'discovery',
                image: 'registry.istio.io/release/pilot:1.30.3',
                state: {
                  waiting: {
                    reason: 'ImagePullBackOff',
                    message: 'Back-off pulling image "registry.istio.io/release/pilot:1.30.3"'
                  }
                }
              }
            ]
          }
        },
        {
          metadata: { name: 'ok-1' },
          status: { conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', state: {} }] }
        },
        {
          metadata: { name: 'probe-1' },
          status: { conditions: [{ type: 'Ready', status: 'False', message: 'readiness probe failed' }] }
        }
      ]
    }
    expect(unreadyPods(JSON.stringify(pods))).toEqual([
      'istiod-abc: ImagePullBackOff (image registry.istio.io/release/pilot:1.30.3): Back-off pulling image "registry.istio.io/release/pilot:1.30.3"',
      'probe-1: not ready: readiness probe failed'
    ])
  })

  it('expose-istiod equals samples/multicluster/expose-istiod.yaml@1.30.3; with a revision, the -rev template', () => {
    const [gw, vs] = exposeIstiod({ major: 1, minor: 30, patch: 3 })
    expect(gw).toEqual({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'istiod-gateway', namespace: 'istio-system' },
      spec: {
        selector: { istio: 'eastwestgateway' },
        servers: [
          { port: { name: 'tls-istiod', number: 15012, protocol: 'tls' }, tls: { mode: 'PASSTHROUGH' }, hosts: ['*'] },
          {
            port: { name: 'tls-istiodwebhook', number: 15017, protocol: 'tls' },
            tls: { mode: 'PASSTHROUGH' },
            hosts: ['*']
          }
        ]
      }
    })
    const route = (port: number, target: number) => ({
      match: [{ port, sniHosts: ['*'] }],
      route: [{ destination: { host: 'istiod.istio-system.svc.cluster.local', port: { number: target } } }]
    })
    expect(vs.spec).toEqual({
      hosts: ['*'],
      gateways: ['istiod-gateway'],
      tls: [route(15012, 15012), route(15017, 443)]
    })
    const [, rev] = exposeIstiod({ major: 1, minor: 30, patch: 3 }, 'canary')
    expect(rev.metadata.name).toBe('istiod-vs-canary')
    expect((rev.spec as any).tls[0]).toEqual({
      match: [
        { port: 15012, sniHosts: ['istiod-canary.istio-system.svc', 'istiod-canary.istio-system.svc.cluster.local'] }
      ],
      route: [{ destination: { host: 'istiod-canary.istio-system.svc.cluster.local', port: { number: 15012 } } }]
    })
  })

  it('the remote IOP is the page’s cluster2.yaml (plus clusterName/network as its Helm tab), address filled in later', () => {
    const iop = remoteControlPlane({ clusterName: 'cluster2', network: 'network2', hub: 'docker.io/istio' })
    expect(iop.spec).toEqual({
      profile: 'remote',
      hub: 'docker.io/istio',
      values: {
        istiodRemote: { injectionPath: '/inject/cluster/cluster2/net/network2' },
        global: { multiCluster: { clusterName: 'cluster2' }, network: 'network2', remotePilotAddress: '' }
      }
    })
    const filled = yaml.load(withRemotePilotAddress(toYaml(iop), '172.18.0.9')) as any
    expect(filled.spec.values.global.remotePilotAddress).toBe('172.18.0.9')
    expect(readinessWaits(iop)).toBe(2)
  })

  it('a primary serving remotes sets values.global.externalIstiod (the chart’s EXTERNAL_ISTIOD), others do not', () => {
    const p = { meshId: 'mesh1', clusterName: 'c1', network: 'n1', hub: 'docker.io/istio' }
    expect((controlPlane({ ...p, externalIstiod: true }).spec.values as any).global.externalIstiod).toBe(true)
    expect((controlPlane(p).spec.values as any).global).not.toHaveProperty('externalIstiod')
  })
})
