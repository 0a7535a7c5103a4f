// The registry through which simulated API servers see their peers: the clusters of one simulation
// share one (test/sim/index.js creates it), so the traffic model (traffic.js) can look at the state of
// other clusters, and a remote secret's server address can be mapped to the cluster listening there.
// A server started without one gets a registry of its own (a one-cluster mesh).

/**
 * @typedef {object} MeshPeer what a cluster shows its peers
 * @property {string} name
 * @property {number} index
 * @property {import('./store.js').Store} store
 * @property {string} caPem
 * @property {string} reachableHost 127.0.0.(index+1): the address other clusters can reach
 * @property {number} port
 * @property {(token: string) => boolean} tokenIsValid
 * @property {Map<string, number>} roundRobin per-service counters of requests *from* this cluster
 */

export class Mesh {
  /** @type {Map<string, MeshPeer>} */
  #peers = new Map()

  /** @param {MeshPeer} peer */
  add(peer) {
    const existing = this.#peers.get(peer.name)
    if (existing && existing !== peer) throw new Error(`mesh: a cluster named ${JSON.stringify(peer.name)} is already registered`)
    this.#peers.set(peer.name, peer)
  }

  remove(peer) {
    if (this.#peers.get(peer.name) === peer) this.#peers.delete(peer.name)
  }

  /** Registered clusters, by index. */
  get clusters() {
    return [...this.#peers.values()].sort((a, b) => a.index - b.index)
  }

  byName(name) {
    return this.#peers.get(name)
  }

  /** The cluster serving its API on host:port, as a client inside another cluster would reach it. */
  byAddress(host, port) {
    return this.clusters.find((p) => p.reachableHost === host && p.port === port)
  }
}

export function createMesh() {
  return new Mesh()
}
