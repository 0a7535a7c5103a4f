import { CANARY, tokenKubeconfig } from './kubeconfigs.js'

export interface BadInputCase {
  name: string
  inputs: Record<string, string>
  env?: Record<string, string>
  /** The one error: names the input, the item/field, and what is wrong. */
  error: RegExp
}

const KC = tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2')
const TWO = '- {name: c1, network: n1}\n- {name: c2, network: n2}'
const base = (extra: Record<string, string> = {}, clusters = TWO) => ({ clusters, kubeconfig: KC, ...extra })
const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
for (let i = 1; i <= 8; i++)
  bomb.push(
    `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
      .fill(`*${String.fromCharCode(96 + i)}`)
      .join(',')}]`
  )

// A root with its key and a key of another pair, made with node:crypto at load time (no files).
import { generateKeyPairSync } from 'node:crypto'
const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem'
}) as string

/** Every case must be rejected before any download or cluster request. */
export const BAD_INPUTS: BadInputCase[] = [
  { name: 'clusters missing', inputs: { kubeconfig: KC }, error: /^Input "clusters": is required/ },
  {
    name: 'malformed YAML',
    inputs: base({}, '- {name: c1, network: n1\n- name: c2'),
    error: /^Input "clusters", line \d+, column \d+: is not valid YAML/
  },
  {
    name: 'YAML bomb',
    inputs: base({}, `${bomb.join('\n')}\n`),
    error: /^Input "clusters": expands to more than \d+ YAML nodes/
  },
  {
    name: 'oversized input',
    inputs: base({}, `- {name: c1, network: n1}\n- {name: c2, network: n2}\n# ${'x'.repeat(100 * 1024)}`),
    error: /^Input "clusters": is \d+ bytes, more than the \d+ allowed/
  },
  {
    name: 'clusters is a map',
    inputs: base({}, 'c1: n1\nc2: n2'),
    error: /^Input "clusters": must be a YAML list of clusters, got a map/
  },
  {
    name: 'clusters is a string',
    inputs: base({}, 'cluster1'),
    error: /^Input "clusters": must be a YAML list of clusters, got string "cluster1"/
  },
  {
    name: 'one cluster',
    inputs: base({}, '- {name: c1, network: n1}'),
    error: /^Input "clusters": needs at least two clusters.*got 1/
  },
  {
    name: 'item not a map',
    inputs: base({}, '- {name: c1, network: n1}\n- c2'),
    error: /^Input "clusters", item 2: must be a map/
  },
  {
    name: 'duplicate names',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c1, network: n2}'),
    error: /^Input "clusters", item 2, field "name": "c1" is already the name of item 1/
  },
  {
    name: 'name missing',
    inputs: base({}, '- {name: c1, network: n1}\n- {network: n2}'),
    error: /^Input "clusters", item 2, field "name": is required/
  },
  {
    name: 'name uppercase',
    inputs: base({}, '- {name: C1, network: n1}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "name": must be a DNS-1123 label.*"C1"/
  },
  {
    name: 'name path trick',
    inputs: base({}, '- {name: ../x, network: n1}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "name": must be a DNS-1123 label.*"\.\.\/x"/
  },
  {
    name: 'name with slash',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: a/b, network: n2}'),
    error: /^Input "clusters", item 2, field "name": must be a DNS-1123 label/
  },
  {
    name: 'name too long',
    inputs: base({}, `- {name: ${'a'.repeat(64)}, network: n1}\n- {name: c2, network: n2}`),
    error: /^Input "clusters", item 1, field "name": must be a DNS-1123 label/
  },
  {
    name: 'name ends with dash',
    inputs: base({}, '- {name: c1-, network: n1}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "name": must be a DNS-1123 label/
  },
  {
    name: 'name is a list',
    inputs: base({}, '- {name: [c1], network: n1}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "name": must be a string, got a list/
  },
  {
    name: 'network missing',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2}'),
    error: /^Input "clusters", item 2, field "network": is required/
  },
  {
    name: 'network invalid',
    inputs: base({}, '- {name: c1, network: "net 1"}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "network": must be a Kubernetes label value.*"net 1"/
  },
  {
    name: 'network empty',
    inputs: base({}, '- {name: c1, network: ""}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "network": must not be empty/
  },
  {
    name: 'unknown field with did-you-mean',
    inputs: base({}, '- {name: c1, network: n1, netwrok: x}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "netwrok": unknown field; did you mean "network"\?/
  },
  {
    name: 'unknown field kubeconfig',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig_env: X}'),
    error: /^Input "clusters", item 2, field "kubeconfig_env": unknown field; did you mean "kubeconfig-env"\?/
  },
  {
    name: 'role unknown',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, role: secondary}'),
    error: /^Input "clusters", item 2, field "role": must be one of primary, remote, got "secondary"/
  },
  {
    name: 'remote without a primary',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, role: remote}'),
    error:
      /^Input "clusters", item 2, field "primary": is required for a remote: .*"c2" \(https:\/\/istio\.io\/latest\/docs\/setup\/install\/multicluster\/primary-remote\/\)/
  },
  {
    name: 'primary names an unknown cluster',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, role: remote, primary: c9}'),
    error: /^Input "clusters", item 2, field "primary": names no cluster of the list: "c9" \(clusters: c1, c2\)/
  },
  {
    name: 'remote of a remote',
    inputs: base(
      {},
      '- {name: c1, network: n1, role: remote, primary: c2}\n- {name: c2, network: n2, role: remote, primary: c1}'
    ),
    error:
      /^Input "clusters", item 1, field "primary": "c2" \(item 2\) is a remote itself; .*no remote of a remote \(https:\/\/istio\.io\/latest\/docs\/setup\/install\/multicluster\/primary-remote_multi-network\/\)/
  },
  {
    name: 'remote is its own primary',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, role: remote, primary: c2}'),
    error: /^Input "clusters", item 2, field "primary": "c2" cannot be its own primary: a remote has no istiod/
  },
  {
    name: 'primary given to a primary',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, primary: c1}'),
    error: /^Input "clusters", item 2, field "primary": only a remote has a primary; "c2" is a primary/
  },
  {
    name: 'context absent',
    inputs: base({}, '- {name: c1, network: n1, context: nope}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "context": the "kubeconfig" input has no context "nope" \(it has: c1, c2\)/
  },
  {
    name: 'default context absent',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c3, network: n2}'),
    error: /^Input "clusters", item 2: the "kubeconfig" input has no context "c3"/
  },
  {
    name: 'kubeconfig-env unset',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-env: KC_UNSET}'),
    error: /^Input "clusters", item 2, field "kubeconfig-env": environment variable KC_UNSET is not set/
  },
  {
    name: 'kubeconfig-env empty',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-env: KC_EMPTY}'),
    env: { KC_EMPTY: '  ' },
    error: /^Input "clusters", item 2, field "kubeconfig-env": environment variable KC_EMPTY is empty/
  },
  {
    name: 'kubeconfig-env bad name',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-env: "A-B"}'),
    error: /^Input "clusters", item 2, field "kubeconfig-env": must be an environment variable name/
  },
  {
    name: 'kubeconfig-env invalid base64',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-env: KC_B64}'),
    env: { KC_B64: 'not*base64!' },
    error: /^Input "clusters", item 2, field "kubeconfig-env": the kubeconfig is neither kubeconfig YAML nor base64/
  },
  {
    name: 'kubeconfig-env base64 of junk',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-env: KC_JUNK}'),
    env: { KC_JUNK: Buffer.from('hello world').toString('base64') },
    error:
      /^Input "clusters", item 2, field "kubeconfig-env": the kubeconfig is base64 but does not decode to a kubeconfig/
  },
  {
    name: 'kubeconfig not a kubeconfig',
    inputs: { clusters: TWO, kubeconfig: 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}' },
    error: /^Input "kubeconfig": the value is not a kubeconfig: kind is "Pod"/
  },
  {
    name: 'kubeconfig-file missing',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-file: /nonexistent/kc}'),
    error: /^Input "clusters", item 2, field "kubeconfig-file": file \/nonexistent\/kc does not exist/
  },
  {
    name: 'both env and file',
    inputs: base({}, '- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-file: x, kubeconfig-env: Y}'),
    error: /^Input "clusters", item 2: has both "kubeconfig-env" and "kubeconfig-file"/
  },
  {
    name: 'api-server not a URL',
    inputs: base({}, '- {name: c1, network: n1, api-server: "c1:6443"}\n- {name: c2, network: n2}'),
    error: /^Input "clusters", item 1, field "api-server": must use https: or http:/
  },
  {
    name: 'unknown mode of ca',
    inputs: base({ ca: 'generated' }),
    error:
      /^Input "ca": must be one of "generate", "provided", "existing", "none", got "generated"; did you mean "generate"\?/
  },
  {
    name: 'unknown verify',
    inputs: base({ verify: 'trafic' }),
    error: /^Input "verify": must be one of .*got "trafic"; did you mean "traffic"\?/
  },
  {
    name: 'unknown diagnostics',
    inputs: base({ diagnostics: 'on-falure' }),
    error:
      /^Input "diagnostics": must be one of "on-failure", "always", "never", got "on-falure"; did you mean "on-failure"\?/
  },
  {
    name: 'unknown mode close to check',
    inputs: base({ mode: 'chek' }),
    error: /^Input "mode": must be one of "install", "plan", "uninstall", "check", got "chek"; did you mean "check"\?/
  },
  {
    name: 'bad gateway-timeout',
    inputs: base({ 'gateway-timeout': '5 minutes' }),
    error: /^Input "gateway-timeout": must be a duration like "90s", "5m" or "1h30m", got "5 minutes"/
  },
  {
    name: 'zero verify-timeout',
    inputs: base({ 'verify-timeout': '0s' }),
    error: /^Input "verify-timeout": must be a duration/
  },
  {
    name: 'huge gateway-timeout',
    inputs: base({ 'gateway-timeout': '10h' }),
    error: /^Input "gateway-timeout": must be at most 6h/
  },
  {
    name: 'bad version string',
    inputs: base({ 'istio-version': 'v1.x' }),
    error:
      /^Input "istio-version": must be "latest", a minor version like "1.30" or an exact release like "1.30.3", got "v1.x"/
  },
  {
    name: 'prerelease version',
    inputs: base({ 'istio-version': '1.31.0-beta.1' }),
    error: /^Input "istio-version": must be "latest"/
  },
  {
    name: 'too old version',
    inputs: base({ 'istio-version': '1.18.2' }),
    error: /^Input "istio-version": 1\.18\.2 is older than 1\.19/
  },
  { name: 'bad mesh-id', inputs: base({ 'mesh-id': 'mesh one' }), error: /^Input "mesh-id": must be a label value/ },
  {
    name: 'bad revision',
    inputs: base({ revision: '1.30.3' }),
    error: /^Input "revision": must be a DNS-1123 label like "1-30-3"/
  },
  {
    name: 'bad max-parallel',
    inputs: base({ 'max-parallel': '0' }),
    error: /^Input "max-parallel": must be a whole number of at least 1/
  },
  {
    name: 'bad boolean',
    inputs: base({ 'export-kubeconfig': 'yes' }),
    error: /^Input "export-kubeconfig": must be "true" or "false", got "yes"/
  },
  {
    name: 'bad download-base-url',
    inputs: base({ 'download-base-url': 'ftp://mirror/istio' }),
    error: /^Input "download-base-url": must use http: or https: or file:/
  },
  {
    name: 'overlay changes meshID',
    inputs: base({ 'operator-overlay': 'spec:\n  values:\n    global:\n      meshID: other' }),
    error: /^Input "operator-overlay", field "spec\.values\.global\.meshID": is set by the "mesh-id" input/
  },
  {
    name: 'overlay changes clusterName',
    inputs: base({ 'operator-overlay': 'spec:\n  values:\n    global:\n      multiCluster: {clusterName: x}' }),
    error:
      /^Input "operator-overlay", field "spec\.values\.global\.multiCluster\.clusterName": is set by the "clusters" input/
  },
  {
    name: 'overlay changes network',
    inputs: base({ 'operator-overlay': 'spec: {values: {global: {network: x}}}' }),
    error: /^Input "operator-overlay", field "spec\.values\.global\.network": is set by the "clusters" input/
  },
  {
    name: 'overlay sets spec.hub',
    inputs: base({ 'operator-overlay': 'spec:\n  hub: my-mirror.example/istio' }),
    error: /^Input "operator-overlay", field "spec\.hub": is set by the "hub" input/
  },
  {
    name: 'overlay sets values.global.hub',
    inputs: base({ 'operator-overlay': 'spec: {values: {global: {hub: registry.istio.io/release}}}' }),
    error: /^Input "operator-overlay", field "spec\.values\.global\.hub": is set by the "hub" input/
  },
  {
    name: 'hub with a scheme',
    inputs: base({ hub: 'https://docker.io/istio' }),
    error: /^Input "hub": must not start with a scheme/
  },
  {
    name: 'hub with a tag',
    inputs: base({ hub: 'docker.io/istio:1.30.3' }),
    error: /^Input "hub": must not carry a tag or digest/
  },
  {
    name: 'hub uppercase',
    inputs: base({ hub: 'docker.io/Istio' }),
    error: /^Input "hub": has a path component "Istio"/
  },
  {
    name: 'hub trailing slash',
    inputs: base({ hub: 'my-mirror.example/istio/' }),
    error: /^Input "hub": must not end with "\/"/
  },
  {
    name: 'bad readiness-timeout',
    inputs: base({ 'readiness-timeout': '5 min' }),
    error: /^Input "readiness-timeout": must be a duration like "90s"/
  },
  {
    name: 'overlay is a list',
    inputs: base({ 'operator-overlay': '- a' }),
    error: /^Input "operator-overlay": must be an IstioOperator \(a YAML map\), got a list/
  },
  {
    name: 'annotations not a map',
    inputs: base({ 'gateway-service-annotations': 'just-text' }),
    error: /^Input "gateway-service-annotations": must be a YAML map/
  },
  {
    name: 'annotation with a map value',
    inputs: base({ 'gateway-service-annotations': 'a.b/c: {x: 1}' }),
    error: /^Input "gateway-service-annotations", key "a\.b\/c": must have a string value, got a map/
  },
  {
    name: 'ca provided without cert',
    inputs: base({ ca: 'provided', 'ca-root-key': otherKey }),
    error: /^Input "ca-root-cert": is required with ca: provided/
  },
  {
    name: 'ca provided without key',
    inputs: base({ ca: 'provided', 'ca-root-cert': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }),
    error: /^Input "ca-root-key": is required with ca: provided/
  },
  {
    name: 'ca-root-cert not PEM',
    inputs: base({ ca: 'provided', 'ca-root-cert': 'nope', 'ca-root-key': otherKey }),
    error: /^Input "ca-root-cert": is not a PEM certificate/
  },
  {
    name: 'ca key given without provided',
    inputs: base({ 'ca-root-key': otherKey }),
    error: /^Input "ca-root-key": is only used with ca: provided/
  },
  {
    name: 'image with a space',
    inputs: base({ 'verify-image-curl': 'curl latest' }),
    error: /^Input "verify-image-curl": must be an image reference/
  },
  {
    name: 'probe image with a space',
    inputs: base({ 'probe-image': 'curl latest' }),
    error: /^Input "probe-image": must be an image reference/
  },
  // istioctl parses values.revision like a --set value (operator/pkg/values/map.go parseValue).
  ...[
    ['130', 'number'],
    ['1e3', 'number'],
    ['nan', 'number'],
    ['true', 'boolean']
  ].map(([rev, as]) => ({
    name: `revision istioctl reads as a ${as} (${rev})`,
    inputs: base({ revision: rev }),
    error: new RegExp(`^Input "revision": istioctl would read "${rev}" as a ${as} .*; use e\\.g\\. "1-30-3"$`)
  })),
  {
    name: 'overlay sets values.revision',
    inputs: base({ 'operator-overlay': 'spec:\n  values:\n    revision: canary' }),
    error:
      /^Input "operator-overlay", field "spec\.values\.revision": is set by the "revision" input; remove it from the overlay$/
  },
  ...['ambient', 'empty', 'remote'].map((profile) => ({
    name: `overlay profile ${profile}`,
    inputs: base({ 'operator-overlay': `spec:\n  profile: ${profile}` }),
    error: new RegExp(
      `^Input "operator-overlay", field "spec\\.profile": is "${profile}"; the action installs a sidecar multi-primary control plane: use one of "default", "demo", "minimal", "preview", "stable", "openshift"$`
    )
  })),
  {
    name: 'overlay Helm profile ambient',
    inputs: base({ 'operator-overlay': 'spec: {values: {global: {profile: ambient}}}' }),
    error:
      /^Input "operator-overlay", field "spec\.values\.global\.profile": is "ambient"; .*: use one of "demo", "preview", "stable"$/
  },
  {
    name: 'overlay enables ztunnel',
    inputs: base({ 'operator-overlay': 'spec: {components: {ztunnel: {enabled: true}}}' }),
    error:
      /^Input "operator-overlay", field "spec\.components\.ztunnel\.enabled": enables ztunnel, the ambient data plane/
  },
  {
    name: 'data-plane misspelled',
    inputs: base({ 'data-plane': 'ambiant' }),
    error: /^Input "data-plane": must be one of "sidecar", "ambient", got "ambiant"; did you mean "ambient"\?$/
  },
  ...['1.28.10', '1.28'].map((v) => ({
    name: `data-plane ambient on Istio ${v}`,
    inputs: base({ 'data-plane': 'ambient', 'istio-version': v }),
    error: new RegExp(
      `^Input "data-plane": data-plane "ambient" needs Istio 1\\.29 or newer \\(ambient multi-network multicluster is beta from 1\\.29\\), got istio-version ${v.replace(/\./g, '\\.')}; see https://istio\\.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/`
    )
  })),
  {
    name: 'data-plane ambient with an overlay profile',
    inputs: base({ 'data-plane': 'ambient', 'operator-overlay': 'spec: {profile: minimal}' }),
    error:
      /^Input "operator-overlay", field "spec\.profile": is "minimal"; data-plane "ambient" installs profile ambient: remove it from the overlay$/
  },
  {
    name: 'data-plane ambient with an overlay without ztunnel',
    inputs: base({ 'data-plane': 'ambient', 'operator-overlay': 'spec: {components: {ztunnel: {enabled: false}}}' }),
    error:
      /^Input "operator-overlay", field "spec\.components\.ztunnel\.enabled": disables ztunnel, part of the ambient data plane/
  },
  ...['n1', 'n2'].map((net) => ({
    name: `data-plane ambient with a remote on ${net === 'n1' ? 'its primary’s network' : 'another network'}`,
    inputs: base(
      { 'data-plane': 'ambient' },
      `- {name: c1, network: n1}\n- {name: c2, network: ${net}, role: remote, primary: c1}`
    ),
    error:
      /^Input "clusters", item 2, field "role": "c2" is a remote, but data-plane "ambient" has no primary-remote: .*https:\/\/istio\.io\/latest\/docs\/ambient\/install\/multicluster\/ \("Current Status and Limitations"\) says "Primary remote configuration is not currently supported"/
  })),
  {
    name: 'data-plane ambient with an overlay Helm profile other than ambient',
    inputs: base({ 'data-plane': 'ambient', 'operator-overlay': 'spec: {values: {profile: demo}}' }),
    error:
      /^Input "operator-overlay", field "spec\.values\.profile": is "demo"; data-plane "ambient" installs an ambient multi-primary control plane: use "ambient"$/
  },
  {
    name: 'data-plane ambient with an overlay istiodRemote',
    inputs: base({
      'data-plane': 'ambient',
      'operator-overlay': 'spec: {components: {istiodRemote: {enabled: true}}}'
    }),
    error:
      /^Input "operator-overlay", field "spec\.components\.istiodRemote\.enabled": makes the cluster a remote of an external control plane; data-plane "ambient" installs an ambient/
  },
  {
    name: 'overlay disables istiod',
    inputs: base({ 'operator-overlay': 'spec: {components: {pilot: {enabled: false}}}' }),
    error: /^Input "operator-overlay", field "spec\.components\.pilot\.enabled": disables istiod/
  }
]

/** A case whose failure message must not echo the secret it was given. */
export const SECRET_IN_BAD_INPUT = { canary: CANARY, otherKey }
