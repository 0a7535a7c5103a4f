import { describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { controlPlane, eastWestGateway } from '../src/manifests/istio-operator.js'
import { crossNetworkGateway, istioNamespace, toYaml } from '../src/manifests/kubernetes.js'
import { deepMerge } from '../src/manifests/merge.js'

// The reference's manifests (shared/reference/istio-multicluster.md), written out by hand: the renderers must match them field by field.
const REFERENCE_CONTROL_PLANE = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
spec:
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
    expect(roundTrip(controlPlane({ meshId: 'mesh1', clusterName: 'cluster1', network: 'network1' }))).toEqual(yaml.load(REFERENCE_CONTROL_PLANE))
  })

  it('control plane carries the revision and merges an overlay without letting it touch the owned fields', () => {
    const iop = controlPlane({
      meshId: 'm',
      clusterName: 'c2',
      network: 'n2',
      revision: '1-30-3',
      overlay: { spec: { meshConfig: { accessLogFile: '/dev/stdout' }, values: { global: { logging: { level: 'default:debug' } } } } }
    })
    expect(iop.metadata.name).toBe('control-plane')
    expect(iop.spec).toEqual({
      revision: '1-30-3',
      meshConfig: { accessLogFile: '/dev/stdout' },
      values: { global: { logging: { level: 'default:debug' }, meshID: 'm', multiCluster: { clusterName: 'c2' }, network: 'n2' } }
    })
  })

  it('east-west gateway equals what gen-eastwest-gateway.sh --network network1 prints', () => {
    expect(roundTrip(eastWestGateway({ network: 'network1' }))).toEqual(yaml.load(REFERENCE_EASTWEST))
  })

  it('east-west gateway takes the revision and the service annotations', () => {
    const iop = eastWestGateway({
      network: 'n2',
      revision: 'canary',
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }
    }) as any
    expect(iop.spec.revision).toBe('canary')
    const gw = iop.spec.components.ingressGateways[0]
    expect(gw.k8s.serviceAnnotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' })
    expect(gw.label['topology.istio.io/network']).toBe('n2')
    expect(gw.k8s.env).toEqual([{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: 'n2' }])
    expect(iop.spec.values.global.network).toBe('n2')
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
})
