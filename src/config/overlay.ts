import { InputError } from '../errors.js'
import { describeType, isMap, loadYamlInput } from './yaml.js'

/** Fields the action owns: letting an overlay change them would split the mesh or break pruning. */
const OWNED_OVERLAY_PATHS = [
  ['spec', 'values', 'global', 'meshID'],
  ['spec', 'values', 'global', 'network'],
  ['spec', 'values', 'global', 'multiCluster', 'clusterName'],
  ['spec', 'revision'],
  // istioctl applies the user's spec.values last (render/manifest.go MergeInputs): this one would win over spec.revision.
  ['spec', 'values', 'revision'],
  ['spec', 'hub'],
  ['spec', 'values', 'global', 'hub'],
  ['metadata', 'name']
]

/**
 * Profiles (manifests/profiles/, the same ten in 1.28–1.31) that still install what the action builds, a sidecar
 * multi-primary control plane: default; demo (+ egress gateway, small requests, access logs); minimal (no ingress
 * gateway); preview and stable (default + feature flags); openshift (default + the CNI plugin OpenShift needs, still
 * sidecars). Not: empty (no istiod), remote (istiodRemote: config for an external istiod), ambient and
 * openshift-ambient (ztunnel + CNI: the ambient data plane). The Helm-level values.profile / values.global.profile
 * names charts' files/profile-*.yaml (ambient, demo, preview, remote, stable). Empty means the default.
 */
const SIDECAR_PROFILES = ['default', 'demo', 'minimal', 'preview', 'stable', 'openshift']
const SIDECAR_HELM_PROFILES = ['demo', 'preview', 'stable']
const SIDECAR = 'the action installs a sidecar multi-primary control plane'
const AMBIENT = 'data-plane "ambient" installs an ambient multi-primary control plane'
const profileIn = (names: string[], why: string) => (v: unknown) =>
  v === '' || names.includes(v as string)
    ? undefined
    : `is ${JSON.stringify(v)}; ${why}: use ${names.length > 1 ? 'one of ' : ''}${names.map((n) => `"${n}"`).join(', ')}`
type Check = [path: string, problem: (v: unknown) => string | undefined]
/** Under data-plane "ambient" the profile is ambient (spec.profile: config/data-plane.ts) and ztunnel is wanted. */
function topologyChecks(ambient: boolean): Check[] {
  const mesh = ambient ? AMBIENT : SIDECAR
  const helm = profileIn(ambient ? ['ambient'] : SIDECAR_HELM_PROFILES, mesh)
  const sidecarOnly: Check[] = [
    ['spec.profile', profileIn(SIDECAR_PROFILES, SIDECAR)],
    [
      'spec.components.ztunnel.enabled',
      (v) => (v === true ? `enables ztunnel, the ambient data plane; ${SIDECAR}` : undefined)
    ]
  ]
  return [
    ...(ambient ? [] : sidecarOnly),
    ['spec.values.profile', helm],
    ['spec.values.global.profile', helm],
    [
      'spec.components.istiodRemote.enabled',
      (v) => (v === true ? `makes the cluster a remote of an external control plane; ${mesh}` : undefined)
    ],
    [
      'spec.components.pilot.enabled',
      (v) => (v === false ? `disables istiod; ${mesh}, with an istiod in every cluster` : undefined)
    ]
  ]
}

/** The `operator-overlay` input: an IstioOperator that sets nothing the action owns and keeps the topology. */
export function parseOperatorOverlay(text: string, ambient = false): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined
  const overlay = loadYamlInput('operator-overlay', text)
  if (!isMap(overlay))
    throw new InputError('operator-overlay', '', `must be an IstioOperator (a YAML map), got ${describeType(overlay)}`)
  for (const key of Object.keys(overlay))
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key))
      throw new InputError(
        'operator-overlay',
        `field "${key}"`,
        'unknown top-level field of an IstioOperator (apiVersion, kind, metadata, spec)'
      )
  if (overlay.kind !== undefined && overlay.kind !== 'IstioOperator')
    throw new InputError(
      'operator-overlay',
      'field "kind"',
      `must be "IstioOperator", got ${JSON.stringify(overlay.kind)}`
    )
  for (const p of OWNED_OVERLAY_PATHS) {
    let v: unknown = overlay
    for (const k of p) v = isMap(v) ? v[k] : undefined
    if (v !== undefined) {
      const owner =
        p[p.length - 1] === 'revision'
          ? 'the "revision" input'
          : p[p.length - 1] === 'hub'
            ? 'the "hub" input (every Istio image comes from it; a mirror goes there too)'
            : p[p.length - 1] === 'name'
              ? 'the action (it names the control plane "control-plane" so re-installs do not prune the gateway)'
              : p[p.length - 1] === 'meshID'
                ? 'the "mesh-id" input'
                : 'the "clusters" input'
      throw new InputError(
        'operator-overlay',
        `field "${p.join('.')}"`,
        `is set by ${owner}; remove it from the overlay`
      )
    }
  }
  for (const [p, check] of topologyChecks(ambient)) {
    let v: unknown = overlay
    for (const k of p.split('.')) v = isMap(v) ? v[k] : undefined
    const problem = v === undefined ? undefined : check(v)
    if (problem) throw new InputError('operator-overlay', `field "${p}"`, problem)
  }
  if (overlay.spec !== undefined && !isMap(overlay.spec))
    throw new InputError('operator-overlay', 'field "spec"', `must be a map, got ${describeType(overlay.spec)}`)
  return overlay
}
