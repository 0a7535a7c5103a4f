import { CHECK_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL } from '../istio-names.js'
import { KubeObject } from './kubernetes.js'

/** mode: check's temporary LoadBalancer Service: it selects no pod, so it only asks for an address. */
export const LB_CHECK_SERVICE = 'load-balancer-check'

/**
 * A namespace of the check's own and a Service of type LoadBalancer in it, on the east-west gateway's port (15443):
 * what install's gateway Service asks the load balancer for, with the same annotations.
 */
export function loadBalancerCheck(annotations: Record<string, string>): KubeObject[] {
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY }
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CHECK_NAMESPACE, labels } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: LB_CHECK_SERVICE,
        namespace: CHECK_NAMESPACE,
        labels,
        ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {})
      },
      spec: {
        type: 'LoadBalancer',
        selector: { app: LB_CHECK_SERVICE },
        ports: [{ name: 'tls', port: 15443, targetPort: 15443, protocol: 'TCP' }]
      }
    }
  ]
}
