import {
  ISTIO_NAMESPACE,
  OPERATOR_COMPONENT_LABEL,
  OPERATOR_MANAGED_LABEL,
  OPERATOR_VERSION_LABEL,
  OWNING_RESOURCE_LABEL,
  OWNING_RESOURCE_NAMESPACE_LABEL,
  REVISION_LABEL
} from '../istio-names.js'
import { IstioOperator } from './istio-operator.js'
import { KubeObject } from './kubernetes.js'

interface GatewayComponent {
  name: string
  label: Record<string, string>
  k8s?: { service?: { ports?: { name: string; port: number; targetPort: number }[] }; serviceAnnotations?: object }
}

/**
 * The east-west gateway's Service exactly as `istioctl install -f <eastWestGateway IOP>` will apply it, so that it can
 * exist (and its load balancer provision) while the control plane installs. What istioctl renders, in the real sources
 * (istio/istio 1.30.3; 1.28.10 and 1.29.6 render the same Service):
 * - manifests/charts/gateways/istio-ingress/templates/service.yaml: name, namespace, `serviceAnnotations` as annotations,
 *   labels = the gateway's `labels` + release, istio.io/rev, owning-resource, component IngressGateways,
 *   app.kubernetes.io/name istio-ingressgateway + "istio.labels" (zzz_profile.yaml: managed-by Helm, instance istio,
 *   part-of istio, version and helm.sh/chart from the release's chart version); spec: type (values.yaml: LoadBalancer),
 *   selector = the gateway's labels, ports; loadBalancerIP, externalTrafficPolicy, ipFamilies only when set.
 * - operator/pkg/render/manifest.go applyComponentValuesToHelmValues: the component's `label` replaces the labels,
 *   its k8s.service.ports the ports (as corev1.ServicePort JSON: name, port, targetPort; no protocol);
 *   render/postprocess.go: k8s.serviceAnnotations is a strategic merge patch of metadata.annotations.
 * - operator/pkg/install/install.go: getOwnerLabels adds operator.istio.io/managed=Reconcile, operator.istio.io/version
 *   (istioctl's own version), owning-resource = the IOP's name, owning-resource-namespace = its namespace (istio-system:
 *   render/manifest.go translateIstioOperatorToHelm sets metadata.namespace from values.global.istioNamespace, which
 *   profiles/default.yaml, the base of every profile, sets), istio.io/rev, the component; serverSideApply sends the
 *   object as an apply patch with FieldManager "istio-operator" and Force.
 * Applied with that same field manager (kube/kubectl.ts serverSideApply), the install's apply is then the same
 * manager applying the same fields: no conflict, nothing re-created (same uid, same load balancer), and any field of
 * ours it does not apply is removed, since no other manager owns it (sigs.k8s.io/structured-merge-diff merge/update.go
 * Updater.Apply → prune). Prune after an install selects owner labels + component (install.go prune), and
 * `uninstall --purge` every Service with the component label (operator/pkg/uninstall/prune.go GetPrunedResources):
 * with those labels the early Service is istioctl's from the start, and the control plane's own prune (owning-resource
 * control-plane) leaves it alone.
 */
export function gatewayService(iop: IstioOperator, istioVersion: string): KubeObject {
  const gateway = (iop.spec.components as { ingressGateways: GatewayComponent[] }).ingressGateways[0]
  const revision = typeof iop.spec.revision === 'string' && iop.spec.revision ? iop.spec.revision : 'default'
  const annotations = gateway.k8s?.serviceAnnotations as Record<string, string> | undefined
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: gateway.name,
      namespace: ISTIO_NAMESPACE,
      ...(annotations && Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
      labels: {
        ...gateway.label,
        release: 'istio',
        [REVISION_LABEL]: revision,
        [OWNING_RESOURCE_LABEL]: iop.metadata.name,
        [OWNING_RESOURCE_NAMESPACE_LABEL]: ISTIO_NAMESPACE,
        [OPERATOR_COMPONENT_LABEL]: 'IngressGateways',
        'app.kubernetes.io/name': 'istio-ingressgateway',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/instance': 'istio',
        'app.kubernetes.io/part-of': 'istio',
        'app.kubernetes.io/version': istioVersion,
        'helm.sh/chart': `istio-ingress-${istioVersion}`,
        [OPERATOR_MANAGED_LABEL]: 'Reconcile',
        [OPERATOR_VERSION_LABEL]: istioVersion
      }
    },
    spec: {
      type: 'LoadBalancer',
      selector: { ...gateway.label },
      ports: (gateway.k8s?.service?.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort }))
    }
  }
}
