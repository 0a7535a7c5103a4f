import { VerifyImages } from '../config/index.js'
import { DATAPLANE_MODE_LABEL, GLOBAL_SERVICE_LABEL, INJECTION_LABEL, REVISION_LABEL } from '../istio-names.js'
import { KubeObject } from './kubernetes.js'

/** Where the traffic check runs; removed afterwards unless verify-keep. */
export const VERIFY_NAMESPACE = 'istio-multicluster-verify'

/** The version of samples/helloworld a cluster runs: v1, v2, v1, … by its position, so every version runs somewhere. */
export function helloworldVersion(clusterIndex: number): 'v1' | 'v2' {
  return clusterIndex % 2 === 0 ? 'v1' : 'v2'
}

/**
 * Istio's samples/helloworld (Service in every cluster, one version Deployment) and samples/curl, in a namespace with
 * sidecar injection on (the revision's label when a revision is used, as `istio-injection` only selects the default).
 * Ambient ("Verify the ambient installation"): the namespace labelled `istio.io/dataplane-mode=ambient` and the
 * helloworld Service `istio.io/global=true`, as only global services are seen from other clusters.
 */
export function verifyWorkloads(
  version: 'v1' | 'v2',
  images: VerifyImages,
  revision?: string,
  dataPlane: 'sidecar' | 'ambient' = 'sidecar'
): KubeObject[] {
  const ns = VERIFY_NAMESPACE
  const ambient = dataPlane === 'ambient'
  const injection: Record<string, string> = ambient
    ? { [DATAPLANE_MODE_LABEL]: 'ambient' }
    : revision
      ? { [REVISION_LABEL]: revision }
      : { [INJECTION_LABEL]: 'enabled' }
  const deployment = (
    name: string,
    labels: Record<string, string>,
    container: Record<string, unknown>
  ): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 0, containers: [container] } }
    }
  })
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: injection } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'helloworld',
        namespace: ns,
        labels: { app: 'helloworld', service: 'helloworld', ...(ambient ? { [GLOBAL_SERVICE_LABEL]: 'true' } : {}) }
      },
      spec: { ports: [{ port: 5000, name: 'http' }], selector: { app: 'helloworld' } }
    },
    deployment(
      `helloworld-${version}`,
      { app: 'helloworld', version },
      {
        name: 'helloworld',
        image: version === 'v1' ? images.helloworldV1 : images.helloworldV2,
        imagePullPolicy: 'IfNotPresent',
        resources: { requests: { cpu: '100m' } },
        ports: [{ containerPort: 5000 }]
      }
    ),
    deployment(
      'curl',
      { app: 'curl' },
      { name: 'curl', image: images.curl, command: ['/bin/sleep', 'infinity'], imagePullPolicy: 'IfNotPresent' }
    )
  ]
}
