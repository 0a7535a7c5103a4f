// The simulated clusters of a measurement: how long each one's steps take, and a simulation that plays that.
import { startSimulation } from '../../test/sim/index.js'

/** The Istio version every measurement installs (the one release the simulated site serves, besides `latest`). */
export const VERSION = '1.30.3'

/**
 * Per-cluster times (ms) of each profile. A normal cluster takes these × its factor; the slow one × 1.5. The istioctl
 * delays come on top of what the simulated istioctl itself spends (a Node process start and ~60 API round trips for
 * the control plane, ~25 for the gateway, each with the cluster's latency, on kept-alive connections); the load
 * balancer's delay runs from the moment the gateway's Service exists.
 * - `today`: a load balancer that answers within the installs' time (kind with MetalLB or cloud-provider-kind).
 * - `cloud`: a load balancer slower than both installs together, as on the clouds: a GKE or Azure external IP in
 *   20–60 s, an AWS NLB hostname quickly but forwarding minutes later. 9 s (slow cluster 13.5 s) keeps a run short
 *   while the load balancer still dominates the path.
 */
export const PROFILES = {
  today: { controlPlaneMs: 1000, gatewayMs: 800, lbMs: 1800, remoteSecretMs: 0, latencyMs: 8 },
  cloud: { controlPlaneMs: 1000, gatewayMs: 800, lbMs: 9000, remoteSecretMs: 0, latencyMs: 8 }
}
/** @typedef {keyof typeof PROFILES} ProfileName */
/** The default profile, as before profiles existed. */
export const PROFILE = PROFILES.today
export const SLOW = 1.5
const FACTORS = [1.0, 0.9, 1.1, 0.95, 1.05, 0.85, 1.0, 0.9, 1.1, 0.95]

/**
 * @typedef {object} ClusterProfile
 * @property {string} name
 * @property {boolean} slow
 * @property {number} controlPlaneMs
 * @property {number} gatewayMs
 * @property {number} lbMs
 * @property {number} remoteSecretMs
 * @property {number} latencyMs
 */

/**
 * The i-th of n clusters (0-based); the last is the slow one, identical whatever n is, so one limit serves every N.
 * @param {number} i
 * @param {number} n
 * @param {number} scale multiplies every delay
 * @param {ProfileName} [profile]
 * @returns {ClusterProfile}
 */
export function clusterProfile(i, n, scale, profile = 'today') {
  const slow = i === n - 1
  const f = slow ? SLOW : FACTORS[i % FACTORS.length]
  const ms = (/** @type {number} */ x) => Math.round(x * f * scale)
  const p = PROFILES[profile]
  return {
    name: slow ? 'slow' : `c${i + 1}`,
    slow,
    controlPlaneMs: ms(p.controlPlaneMs),
    gatewayMs: ms(p.gatewayMs),
    lbMs: ms(p.lbMs),
    remoteSecretMs: ms(p.remoteSecretMs),
    latencyMs: Math.round(p.latencyMs * f)
  }
}

/** @typedef {Awaited<ReturnType<typeof startSimulation>>} Simulation */

/**
 * A simulation of the given profiles, and when each cluster's load balancer assigned the gateway's address (the
 * store knows it at once). The simulated istioctl asks `/sim/v1/behaviour?op=install` how long to take; both installs
 * are op "install", so the answer depends on whether the control plane is there yet (control plane first, then the
 * gateway).
 * The API server keeps a reference to the delays object, so a getter works.
 * @param {ClusterProfile[]} profiles
 * @returns {Promise<{ sim: Simulation, assignedAt: Map<string, number> }>}
 */
export async function simulate(profiles) {
  /** @type {Map<string, import('../../test/sim/apiserver/index.js').Store>} */
  const stores = new Map()
  const specs = profiles.map((p) => ({
    name: p.name,
    latencyMs: p.latencyMs,
    lb: { mode: /** @type {const} */ ('ip'), delayMs: p.lbMs },
    istioctlDelays: {
      get install() {
        // A remote (profile: remote) has no istiod: its control plane is there once its injector webhook is.
        const store = stores.get(p.name)
        return store?.get('apps/v1', 'Deployment', 'istio-system', 'istiod') ||
          store?.get(
            'admissionregistration.k8s.io/v1',
            'MutatingWebhookConfiguration',
            undefined,
            'istio-sidecar-injector'
          )
          ? p.gatewayMs
          : p.controlPlaneMs
      },
      'create-remote-secret': p.remoteSecretMs
    }
  }))
  const sim = await startSimulation({ clusters: specs, versions: [VERSION] })
  /** @type {Map<string, number>} */
  const assignedAt = new Map()
  for (const c of sim.clusters) {
    stores.set(c.name, c.store)
    c.store.on('change', (e) => {
      const o = e.object
      if (
        o.kind === 'Service' &&
        o.metadata.name === 'istio-eastwestgateway' &&
        o.status?.loadBalancer?.ingress?.length &&
        !assignedAt.has(c.name)
      )
        assignedAt.set(c.name, Date.now())
    })
  }
  return { sim, assignedAt }
}

/**
 * One kubeconfig file, one context per cluster (what the guide's CTX_CLUSTER1/2 name). JSON is YAML.
 * @param {Simulation} sim
 */
export function mergedKubeconfig(sim) {
  const cs = sim.clusters
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: cs.map((c) => ({
      name: c.name,
      cluster: { server: c.url, 'certificate-authority-data': Buffer.from(c.caPem).toString('base64') }
    })),
    contexts: cs.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    users: cs.map((c) => ({ name: c.name, user: { token: c.adminToken } })),
    'current-context': cs[0].name
  })
}
