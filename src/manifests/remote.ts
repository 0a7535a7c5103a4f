// What the primary-remote pages add to the multi-primary objects: istiod exposed through the primary's east-west
// gateway, the remote's istio-system naming its control plane cluster, and the remote's `profile: remote` install.
import * as yaml from 'js-yaml'
import {
  CONTROL_PLANE_CLUSTERS_ANNOTATION,
  ISTIOD_GATEWAY,
  ISTIOD_VIRTUAL_SERVICE,
  ISTIO_NAMESPACE
} from '../istio-names.js'
import { Semver } from '../istioctl/version.js'
import { CONTROL_PLANE_IOP, IstioOperator } from './istio-operator.js'
import { KubeObject, eastWestGatewayObject, istioNamespace, networkingApi } from './kubernetes.js'

/**
 * samples/multicluster/expose-istiod.yaml (or expose-istiod-rev.yaml.tmpl for a revision) @1.30.3: a Gateway passing
 * 15012 (xDS) and 15017 (webhook) through the east-west gateway, and a VirtualService routing them to istiod.
 */
export function exposeIstiod(istioVersion: Semver, revision?: string): KubeObject[] {
  const apiVersion = networkingApi(istioVersion)
  const istiod = `istiod${revision ? `-${revision}` : ''}.${ISTIO_NAMESPACE}.svc`
  // The revision template matches istiod-<rev>'s SNI names; the default one any SNI.
  const sniHosts = revision ? [istiod, `${istiod}.cluster.local`] : ['*']
  const route = (port: number, target: number) => ({
    match: [{ port, sniHosts }],
    route: [{ destination: { host: `${istiod}.cluster.local`, port: { number: target } } }]
  })
  return [
    eastWestGatewayObject(istioVersion, ISTIOD_GATEWAY, [
      { port: { name: 'tls-istiod', number: 15012, protocol: 'tls' }, tls: { mode: 'PASSTHROUGH' }, hosts: ['*'] },
      {
        port: { name: 'tls-istiodwebhook', number: 15017, protocol: 'tls' },
        tls: { mode: 'PASSTHROUGH' },
        hosts: ['*']
      }
    ]),
    {
      apiVersion,
      kind: 'VirtualService',
      metadata: {
        name: revision ? `${ISTIOD_VIRTUAL_SERVICE}-${revision}` : ISTIOD_VIRTUAL_SERVICE,
        namespace: ISTIO_NAMESPACE
      },
      spec: { hosts: ['*'], gateways: [ISTIOD_GATEWAY], tls: [route(15012, 15012), route(15017, 443)] }
    }
  ]
}

/** A remote's istio-system: its network, and the primary whose istiod manages it ("Set the control plane cluster"). */
export function remoteNamespace(network: string, primary: string): KubeObject {
  const ns = istioNamespace(network)
  return { ...ns, metadata: { ...ns.metadata, annotations: { [CONTROL_PLANE_CLUSTERS_ANNOTATION]: primary } } }
}

export interface RemoteParams {
  clusterName: string
  network: string
  hub: string
  revision?: string
  /** The primary's east-west gateway address; filled in when the step runs (remotePilotAddress). */
  remotePilotAddress?: string
}

/**
 * The page's cluster2.yaml: `profile: remote`, the injector's path on the primary's istiod (which tells it the pod's
 * cluster and network) and istiod's address. clusterName and network as the page's Helm tab sets them.
 */
export function remoteControlPlane(p: RemoteParams): IstioOperator {
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: CONTROL_PLANE_IOP },
    spec: {
      profile: 'remote',
      hub: p.hub,
      ...(p.revision ? { revision: p.revision } : {}),
      values: {
        istiodRemote: { injectionPath: `/inject/cluster/${p.clusterName}/net/${p.network}` },
        global: {
          multiCluster: { clusterName: p.clusterName },
          network: p.network,
          remotePilotAddress: p.remotePilotAddress ?? ''
        }
      }
    }
  }
}

/** The remote's IOP with the address its primary's gateway got, once that is known. */
export function withRemotePilotAddress(iop: string, address: string): string {
  const doc = yaml.load(iop) as IstioOperator
  const values = doc.spec.values as { global: Record<string, unknown> }
  values.global.remotePilotAddress = address
  return yaml.dump(doc, { noRefs: true, lineWidth: -1 })
}
