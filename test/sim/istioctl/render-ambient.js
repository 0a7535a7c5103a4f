// What the charts render differently for the ambient profile (`profile: ambient` → values.profile: ambient,
// manifests/profiles/ambient.yaml @1.30.3): each chart merges its files/profile-ambient.yaml between its defaults and
// the user's values (templates/zzz_profile.yaml), and ztunnel's chart flattens globals into its own values.
import { mergeFrom } from './iop.js'

/** @param {any} v @returns {v is Record<string, any>} */
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

// manifests/charts/istio-control/istio-discovery/files/profile-ambient.yaml (1.29.6, 1.30.3, 1.31.0-rc.0 alike):
// HBONE for proxies, services labelled istio.io/global=true are GLOBAL (seen from other clusters), ambient on in istiod.
const AMBIENT_CHART_PROFILE = {
  meshConfig: {
    defaultConfig: { proxyMetadata: { ISTIO_META_ENABLE_HBONE: 'true' } },
    serviceScopeConfigs: [
      {
        servicesSelector: { matchExpressions: [{ key: 'istio.io/global', operator: 'In', values: ['true'] }] },
        scope: 'GLOBAL'
      }
    ]
  },
  global: { variant: 'distroless' },
  pilot: { env: { PILOT_ENABLE_AMBIENT: 'true' } },
  cni: { ambient: { enabled: true } }
}

/**
 * The values the charts see: the chart profile named by values.profile (or global.profile) under the user's values.
 * @param {Record<string, any>} values
 */
export function withChartProfile(values) {
  const profile = values.profile || (isMap(values.global) && values.global.profile)
  // A JSON copy (not structuredClone) keeps the objects in this realm, which js-yaml's dump requires under Jest.
  return profile === 'ambient' ? mergeFrom(JSON.parse(JSON.stringify(AMBIENT_CHART_PROFILE)), values) : values
}

/**
 * istio-discovery/templates/deployment.yaml: `range $key, $val := .Values.env` (pilot.env in an IstioOperator) adds
 * one variable each, its value quoted; and CA_TRUSTED_NODE_ACCOUNTS naming ztunnel unless set.
 * @param {{ values: Record<string, any>, ns: string }} c
 */
export function pilotValuesEnv(c) {
  const env = isMap(c.values.pilot?.env) ? c.values.pilot.env : {}
  const out = []
  if (!('CA_TRUSTED_NODE_ACCOUNTS' in env)) out.push({ name: 'CA_TRUSTED_NODE_ACCOUNTS', value: `${c.ns}/ztunnel` })
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    out.push({ name, value: String(value) })
  return out
}

/**
 * manifests/charts/ztunnel/templates/daemonset.yaml (1.30.3): istiod's address (with the revision), the cluster's
 * network and ID. The ztunnel chart takes `network` and `multiCluster.clusterName` flattened from global.*
 * (zzz_profile.yaml "Flatten globals"; operator/pkg/component FlattenValues), so global.network reaches it.
 * @param {{ values: Record<string, any>, rev: string, ns: string, network: string, clusterName: string }} c
 */
export function ztunnelEnv(c) {
  const own = isMap(c.values.ztunnel) ? c.values.ztunnel : {}
  const istiod = `istiod${c.rev ? `-${c.rev}` : ''}.${c.ns}.svc:15012`
  const network = own.network || c.network
  return [
    { name: 'CA_ADDRESS', value: own.caAddress || istiod },
    { name: 'XDS_ADDRESS', value: own.xdsAddress || istiod },
    ...(network ? [{ name: 'NETWORK', value: network }] : []),
    { name: 'RUST_LOG', value: 'info' },
    { name: 'ISTIO_META_CLUSTER_ID', value: own.multiCluster?.clusterName || c.clusterName || 'Kubernetes' },
    { name: 'INPOD_ENABLED', value: 'true' }
  ]
}
