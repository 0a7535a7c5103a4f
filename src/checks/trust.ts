// root-of-trust/<cluster>: does every cluster's cacerts chain to one root (or is there none yet), and would install
// accept what it finds? The same rules as src/trust/root.ts, without generating anything.
import { Config } from '../config/index.js'
import { CACERTS_SECRET, ISTIO_NAMESPACE, STORED_ROOT_SECRET } from '../istio-names.js'
import { ClusterState } from '../state.js'
import { chainsTo, describeCert, rootOf, sameCertificate } from '../trust/chain.js'
import { perCluster } from './provider.js'
import { Check } from './types.js'

export const TRUST_CHECK = 'root-of-trust'

const ROTATE_HINT =
  'Re-run install with ca-rotate: true to replace it with an intermediate of the mesh root (istiod restarts), or use ca: existing / provided with the root it chains to.'

/** The root install would keep the mesh on, from the inputs and what the clusters carry; undefined: none yet. */
export function meshRootOf(
  config: Config,
  states: Map<string, ClusterState>
): { pem: string; from: string } | undefined {
  if (config.ca.mode === 'provided') return { pem: config.ca.rootCert!, from: 'ca-root-cert' }
  const all = config.clusters.flatMap((c) => (states.get(c.name) ? [[c.name, states.get(c.name)!] as const] : []))
  if (config.ca.mode === 'generate') {
    const stored = all.find(([, s]) => s.storedRoot)
    if (stored) return { pem: stored[1].storedRoot!.certPem, from: `secret ${STORED_ROOT_SECRET} in ${stored[0]}` }
    return undefined
  }
  const first = all.map(([n, s]) => [n, s.cacerts && rootOf(s.cacerts)] as const).find(([, r]) => r)
  return first && { pem: first[1]!, from: `${first[0]}'s cacerts` }
}

export function trustChecks(config: Config, states: Map<string, ClusterState>): Check[] {
  const mode = config.ca.mode
  const root = meshRootOf(config, states)
  return perCluster({ config, states }, TRUST_CHECK, (c, s) => {
    const where = `secret ${CACERTS_SECRET} in ${ISTIO_NAMESPACE}`
    if (!s.cacerts) {
      if (mode === 'existing')
        return {
          status: 'fail',
          message: `ca: existing, but ${c.name} has no ${where}`,
          hint: 'Create cacerts in every cluster (Istio\'s "Plug in CA certificates"), or use ca: generate / provided.'
        }
      if (mode === 'none')
        return {
          status: 'warn',
          message: `no ${where} and ca: none: istiod signs with a self-signed root of its own`,
          hint: 'Cross-cluster mTLS needs one root: use ca: generate (the default) unless you manage cacerts yourself.'
        }
      return {
        status: 'pass',
        message: `no ${where} yet: install would create one chaining to ${root ? `the mesh root (${describeCert(root.pem)})` : 'a newly generated mesh root'}`
      }
    }
    const own = rootOf(s.cacerts)
    const leaf = s.cacerts['ca-cert.pem'] ?? s.cacerts['tls.crt']
    if (!own)
      return { status: 'fail', message: `${c.name}: cacerts has no root-cert.pem (or ca.crt)`, hint: ROTATE_HINT }
    if (leaf && !chainsTo(leaf, own))
      return {
        status: 'fail',
        message: `${c.name}: cacerts' ca-cert.pem is not signed by its own root-cert.pem (${describeCert(own)})`,
        hint: ROTATE_HINT
      }
    if (mode === 'none')
      return {
        status: 'pass',
        message: `cacerts chains to ${describeCert(own)} (ca: none: not checked against the other clusters)`
      }
    if (!root)
      // ca: generate with a cacerts it did not make, and no stored root: install refuses it (root.ts generatedRoot).
      return {
        status: config.ca.rotate ? 'warn' : 'fail',
        message: `${c.name} has a cacerts (root ${describeCert(own)}) that this action did not generate, and no mesh root is stored${config.ca.rotate ? ': ca-rotate: true would replace it' : ''}`,
        hint: 'Use ca: existing if every cluster has one, ca: provided with its root certificate and key, or ca-rotate: true to replace it.'
      }
    if (!sameCertificate(own, root.pem))
      return config.ca.rotate
        ? {
            status: 'warn',
            message: `${c.name}'s cacerts chains to ${describeCert(own)}, not to the mesh root: ca-rotate: true would replace it (istiod restarts)`
          }
        : {
            status: 'fail',
            message: `${c.name}'s cacerts chains to ${describeCert(own)}, not to the mesh root ${describeCert(root.pem)} (from ${root.from}): install would stop here, and cross-cluster mTLS fails with CERTIFICATE_VERIFY_FAILED`,
            hint: ROTATE_HINT
          }
    return { status: 'pass', message: `cacerts chains to the mesh root (${describeCert(root.pem)}, from ${root.from})` }
  })
}
