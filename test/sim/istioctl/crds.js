// The Istio CRDs the base chart installs (manifests/charts/base/files/crd-all.gen.yaml), with the
// versions each one serves and its storage version.
const NET = 'networking.istio.io'
const SEC = 'security.istio.io'
const net3 = ['v1', 'v1alpha3', 'v1beta1']
const sec2 = ['v1', 'v1beta1']

export const CRD_DEFINITIONS = [
  {
    group: 'extensions.istio.io',
    kind: 'WasmPlugin',
    plural: 'wasmplugins',
    versions: ['v1alpha1'],
    storage: 'v1alpha1',
    shortNames: []
  },
  {
    group: NET,
    kind: 'DestinationRule',
    plural: 'destinationrules',
    versions: net3,
    storage: 'v1alpha3',
    shortNames: ['dr']
  },
  {
    group: NET,
    kind: 'EnvoyFilter',
    plural: 'envoyfilters',
    versions: ['v1alpha3'],
    storage: 'v1alpha3',
    shortNames: []
  },
  { group: NET, kind: 'Gateway', plural: 'gateways', versions: net3, storage: 'v1alpha3', shortNames: ['gw'] },
  {
    group: NET,
    kind: 'ProxyConfig',
    plural: 'proxyconfigs',
    versions: ['v1beta1'],
    storage: 'v1beta1',
    shortNames: []
  },
  {
    group: NET,
    kind: 'ServiceEntry',
    plural: 'serviceentries',
    versions: net3,
    storage: 'v1alpha3',
    shortNames: ['se']
  },
  { group: NET, kind: 'Sidecar', plural: 'sidecars', versions: net3, storage: 'v1alpha3', shortNames: [] },
  {
    group: NET,
    kind: 'VirtualService',
    plural: 'virtualservices',
    versions: net3,
    storage: 'v1alpha3',
    shortNames: ['vs']
  },
  {
    group: NET,
    kind: 'WorkloadEntry',
    plural: 'workloadentries',
    versions: net3,
    storage: 'v1alpha3',
    shortNames: ['we']
  },
  {
    group: NET,
    kind: 'WorkloadGroup',
    plural: 'workloadgroups',
    versions: net3,
    storage: 'v1alpha3',
    shortNames: ['wg']
  },
  {
    group: SEC,
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    versions: sec2,
    storage: 'v1beta1',
    shortNames: ['ap']
  },
  {
    group: SEC,
    kind: 'PeerAuthentication',
    plural: 'peerauthentications',
    versions: sec2,
    storage: 'v1beta1',
    shortNames: ['pa']
  },
  {
    group: SEC,
    kind: 'RequestAuthentication',
    plural: 'requestauthentications',
    versions: sec2,
    storage: 'v1beta1',
    shortNames: ['ra']
  },
  {
    group: 'telemetry.istio.io',
    kind: 'Telemetry',
    plural: 'telemetries',
    versions: ['v1', 'v1alpha1'],
    storage: 'v1alpha1',
    shortNames: ['telemetry']
  }
]
