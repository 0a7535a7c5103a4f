// The names Istio defines that the action reads or writes, each written once; then the few the action adds beside them.

/** Where istiod, its gateways, cacerts and the remote secrets live (the mesh's "system namespace"). */
export const ISTIO_NAMESPACE = 'istio-system'

/** The namespace label that names a cluster's network (istio/api label.TopologyNetwork). */
export const NETWORK_LABEL = 'topology.istio.io/network'
/** The control plane revision of an istiod, a gateway or an injected namespace (istio/api label.IoIstioRev). */
export const REVISION_LABEL = 'istio.io/rev'
/** The namespace label that turns on injection by the default revision. */
export const INJECTION_LABEL = 'istio-injection'
/** What istioctl labels the objects it installs with: the Istio version, and `Reconcile` on those it manages. */
export const OPERATOR_VERSION_LABEL = 'operator.istio.io/version'
export const OPERATOR_MANAGED_LABEL = 'operator.istio.io/managed'

/** istiod Deployments carry app=istiod, in every revision. */
export const ISTIOD_APP = 'istiod'
export const ISTIOD_SELECTOR = `app=${ISTIOD_APP}`
/** The injector's ConfigMap, `istio-sidecar-injector[-<revision>]`: its `values` hold meshID, clusterName, network. */
export const SIDECAR_INJECTOR_CONFIGMAP = 'istio-sidecar-injector'

/** The secret istiod takes its signing CA from ("Plug in CA certificates"). */
export const CACERTS_SECRET = 'cacerts'

// istioctl/pkg/multicluster/remote_secret.go: remoteSecretPrefix, MultiClusterSecretLabel, clusterNameAnnotationKey.
export const REMOTE_SECRET_PREFIX = 'istio-remote-secret-'
export const MULTICLUSTER_LABEL = 'istio/multiCluster'
/** On a remote secret: the cluster it gives access to. */
export const CLUSTER_ANNOTATION = 'networking.istio.io/cluster'
/** create-remote-secret's reader account's ClusterRole: cluster-scoped, outside what uninstall --purge owns. */
export const READER_CLUSTER_ROLE = `istio-reader-clusterrole-${ISTIO_NAMESPACE}`

/** samples/multicluster: the east-west gateway and its `istio` label, and expose-services.yaml's Gateway. */
export const EASTWEST_GATEWAY = 'istio-eastwestgateway'
export const EASTWEST_GATEWAY_LABEL = 'eastwestgateway'
export const CROSS_NETWORK_GATEWAY = 'cross-network-gateway'

// The action's own names.
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY = 'istio-multicluster-action'
/** Where `ca: generate` keeps the mesh's root in every member: a cluster added later gets an intermediate of it. */
export const STORED_ROOT_SECRET = 'istio-multicluster-root-ca'

/** On a remote's istio-system: the clusters whose istiod manages it (istio/api annotation.TopologyControlPlaneClusters). */
export const CONTROL_PLANE_CLUSTERS_ANNOTATION = 'topology.istio.io/controlPlaneClusters'
/** samples/multicluster/expose-istiod.yaml: istiod's ports 15012 and 15017 through the east-west gateway. */
export const ISTIOD_GATEWAY = 'istiod-gateway'
export const ISTIOD_VIRTUAL_SERVICE = 'istiod-vs'
// What `istioctl install` puts on what it installs (operator/pkg/install/install.go getOwnerLabels, serverSideApply;
// operator/pkg/manifest/name.go), the same in 1.28.10, 1.29.6 and 1.30.3.
/** The IstioOperator an object belongs to (its metadata.name); install prunes, and uninstall removes, by it. */
export const OWNING_RESOURCE_LABEL = 'install.operator.istio.io/owning-resource'
/** Its namespace: values.global.istioNamespace of the default profile, which every profile starts from. */
export const OWNING_RESOURCE_NAMESPACE_LABEL = 'install.operator.istio.io/owning-resource-namespace'
/** The component (Base, Pilot, IngressGateways, …); `uninstall --purge` removes every object that has it. */
export const OPERATOR_COMPONENT_LABEL = 'operator.istio.io/component'
/** The field manager of istioctl's server-side apply, always with force. */
export const ISTIO_FIELD_MANAGER = 'istio-operator'
/** mode: check's own namespace, for its temporary LoadBalancer Service; removed when the check ends. */
export const CHECK_NAMESPACE = 'istio-multicluster-check'
