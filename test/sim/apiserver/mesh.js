// The registry through which simulated API servers see their peers: the clusters of one simulation
// share one (test/sim/index.js creates it), so the traffic model (traffic.js) can look at the state of
// other clusters, and a remote secret's server address can be mapped to the cluster listening there.
// A server started without one gets a registry of its own (a one-cluster mesh).

import { Network } from './network.js'

/** @typedef {import('./index.js').MeshPeer} MeshPeer what a cluster shows its peers (declared in index.d.ts) */

export class Mesh {
  /** @type {Map<string, MeshPeer>} */
  #peers = new Map()
  /** Who reaches what between these clusters, and the faults in between (network.js). */
  network = new Network(() => this.clusters)

  /** @param {MeshPeer} peer */
  add(peer) {
    const existing = this.#peers.get(peer.name)
    if (existing && existing !== peer)
      throw new Error(`mesh: a cluster named ${JSON.stringify(peer.name)} is already registered`)
    this.#peers.set(peer.name, peer)
  }

  /** @param {MeshPeer} peer */
  remove(peer) {
    if (this.#peers.get(peer.name) === peer) this.#peers.delete(peer.name)
  }

  /** Registered clusters, by index. */
  get clusters() {
    return [...this.#peers.values()].sort((a, b) => a.index - b.index)
  }

  /** @param {string} name */
  byName(name) {
    return this.#peers.get(name)
  }

  /** The cluster serving its API on host:port, as a client inside another cluster would reach it. */
  /** @param {string} host @param {number} port */
  byAddress(host, port) {
    return this.clusters.find((p) => p.reachableHost === host && p.port === port)
  }
}

export function createMesh() {
  return new Mesh()
}
