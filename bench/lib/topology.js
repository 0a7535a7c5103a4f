// The topologies a measurement can install (README "Topologies"): which role each simulated cluster gets in the
// `clusters` input, and the simulated waits on the slow cluster's critical path in each. Pure: no simulation here.

/** `multi-primary`: every cluster a primary on its own network (today's). `primary-remote`: c1 primary, the rest its
 * remotes, each on its own network (istio.io "Install Primary-Remote on different networks"). */
export const TOPOLOGIES = /** @type {const} */ (['multi-primary', 'primary-remote'])
/** @typedef {(typeof TOPOLOGIES)[number]} Topology */

/**
 * Per-cluster fields for `sim.clustersInput(overrides)` (test/sim/index.js), which already puts the i-th cluster on
 * `network<i+1>`: nothing for multi-primary; for primary-remote the first cluster stays a primary (the default role)
 * and every other one is `role: remote` of it.
 * @param {string[]} names the clusters in input order
 * @param {Topology} topology
 * @returns {Record<string, { role?: string, primary?: string }>}
 */
export function topologyOverrides(names, topology) {
  if (topology === 'multi-primary') return {}
  if (topology !== 'primary-remote') throw new Error(`unknown topology ${topology}`)
  return Object.fromEntries(names.slice(1).map((n) => [n, { role: 'remote', primary: names[0] }]))
}

/**
 * The configured waits (ms) on the slow (last) cluster's critical path. Multi-primary: its own control plane, gateway
 * and load balancer; overlapped, the load balancer provisions while the installs run (its Service comes first).
 * Primary-remote: a remote's install needs the primary's east-west gateway address (`values.global.remotePilotAddress`),
 * so the path is the primary's control plane → gateway → address, then the remote's control plane → gateway →
 * address; overlapped, each load balancer provisions from its namespace on.
 * @param {Array<{ controlPlaneMs: number, gatewayMs: number, lbMs: number }>} profiles the clusters, slow one last
 * @param {Topology} topology
 * @returns {{ serialMs: number, overlappedMs: number }}
 */
export function slowPathWaits(profiles, topology) {
  const slow = profiles[profiles.length - 1]
  const installs = slow.controlPlaneMs + slow.gatewayMs
  if (topology === 'multi-primary')
    return { serialMs: installs + slow.lbMs, overlappedMs: Math.max(installs, slow.lbMs) }
  const p = profiles[0]
  const primaryAddress = Math.max(p.controlPlaneMs + p.gatewayMs, p.lbMs)
  return {
    serialMs: p.controlPlaneMs + p.gatewayMs + p.lbMs + installs + slow.lbMs,
    overlappedMs: Math.max(primaryAddress + installs, slow.lbMs)
  }
}
