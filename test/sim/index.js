// One simulated environment: N API servers, a release site + GitHub releases API, and the inputs/env that point
// the action at them. Used by the end-to-end tests, the demo and the benchmark.
import { randomBytes } from 'node:crypto'
import { startApiServer, createMesh } from './apiserver/index.js'
import { startReleaseServer } from './releases.js'

export const CANARY = 'CANARY-5e1f'

/**
 * One cluster of a simulation: startApiServer's options but those the simulation sets (index, token, mesh).
 * @typedef {Omit<import('./apiserver/index.js').ApiServerOptions, 'index' | 'adminToken' | 'mesh'>} ClusterSpec
 */

/**
 * @param {{ clusters?: ClusterSpec[], versions?: Array<string | { version: string, published?: boolean }> }} [opts]
 */
export async function startSimulation(opts = {}) {
  const specs = opts.clusters ?? [{ name: 'cluster1' }, { name: 'cluster2' }]
  const releases = await startReleaseServer({ versions: opts.versions ?? ['1.29.4', '1.30.2', '1.30.3', '1.31.1'] })
  /** @type {import('./apiserver/index.js').SimCluster[]} */
  const clusters = []
  // One registry for all clusters, so a curl exec'd in one can reach the others (apiserver/traffic.js).
  const mesh = createMesh()
  try {
    for (const [i, spec] of specs.entries()) {
      clusters.push(
        await startApiServer({
          index: i + 1,
          // The canary marks every credential: tests scan everything the action leaves for it.
          adminToken: `${CANARY}-admin-${spec.name}-${randomBytes(12).toString('hex')}`,
          mesh,
          ...spec
        })
      )
    }
  } catch (e) {
    await Promise.all([releases.close(), ...clusters.map((c) => c.close())])
    throw e
  }
  /**
   * The cluster of that name, which must be one of this simulation's (tests name them; no check at run time).
   * @param {string} name
   */
  const byName = (name) =>
    /** @type {import('./apiserver/index.js').SimCluster} */ (clusters.find((c) => c.name === name))
  return {
    clusters,
    releases,
    mesh,
    cluster: byName,
    /**
     * Multi-document kubeconfig with one context per cluster, named as the cluster (or as `contexts[name]`).
     * @param {string[]} [names]
     * @param {Record<string, string>} [contexts]
     */
    kubeconfig(names = clusters.map((c) => c.name), contexts = {}) {
      return names.map((n) => byName(n).kubeconfig(contexts[n] ?? n)).join('---\n')
    },
    /**
     * The `clusters` input: each on its own network, with the reachable address as api-server (as on kind).
     * @param {Record<string, Record<string, unknown>>} [overrides] fields per cluster name (undefined drops one)
     */
    clustersInput(overrides = {}) {
      return clusters
        .map((c, i) => {
          const item = { name: c.name, network: `network${i + 1}`, 'api-server': c.reachableUrl, ...overrides[c.name] }
          const fields = Object.entries(item).filter(([, v]) => v !== undefined)
          return `- ${fields.map(([k, v], j) => `${j ? '  ' : ''}${k}: ${JSON.stringify(v)}`).join('\n')}`
        })
        .join('\n')
    },
    /** Inputs and environment that point the action at the simulated release site and API. */
    inputs: { 'download-base-url': releases.downloadBaseUrl, 'github-token': `${CANARY}-github-token` },
    env: { GITHUB_API_URL: releases.apiUrl },
    /** Requests the clusters received (the simulated istioctl's own /sim calls included). */
    requestCount() {
      return clusters.reduce((n, c) => n + c.requests.length, 0)
    },
    /** The network between the clusters: reachability and injectable faults (apiserver/network.js). */
    network: mesh.network,
    async stop() {
      await Promise.all([releases.close(), ...clusters.map((c) => c.close()), mesh.network.close()])
    }
  }
}
