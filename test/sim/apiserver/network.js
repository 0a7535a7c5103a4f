// The network between the clusters of one simulation: which cluster reaches which address, and the faults a real
// multi-network deployment has in between (issue 14). Shared through the mesh registry (mesh.js: `mesh.network`),
// read by the probe pods (probe-pods.js), the traffic model (traffic.js) and the simulated `istioctl
// remote-clusters` (through /sim/v1/behaviour).
//
// Reachability, as seen from a pod in cluster X:
// - a loopback address (127.0.0.1, localhost, ::1) is the pod itself: nothing listens on the API server's port
//   there, so a connection is refused (the runner's kubeconfig uses 127.0.0.1; only the runner reaches that);
// - cluster Y's API server at its `api-server` address (reachableHost:port, 127.0.0.<index+1>) from every cluster,
//   unless a firewall drops X → Y (a connect then times out, as with a DROP rule or a security group);
// - with an intercepting proxy on X → Y (a corporate TLS-inspecting proxy, istio#51376), X's connections to Y's API
//   server end at a proxy that presents a certificate of another CA;
// - cluster Y's east-west gateway at its load-balancer address (Service istio-eastwestgateway's status), port 15443,
//   from every cluster, unless a firewall drops X → Y; a gateway behind an L7 load balancer terminates TLS itself
//   (istio.io#16648); a gateway can be configured to forward only some time after its address appeared (an AWS NLB
//   registers its targets minutes after the hostname is in the Service status);
// - anything else: an IP nobody listens on is refused; a documentation-range IP (192.0.2.0/24, RFC 5737) or an
//   address behind a firewall times out; a name that is no cluster's address does not resolve.
import { issueServerCertificate } from './tls.js'
import https from 'node:https'

// 127.0.0.1 only: the simulator gives the clusters the rest of 127/8 as their reachable addresses (index.js).
const LOOPBACK = /^(127\.0\.0\.1|localhost|::1)$/

/** @typedef {import('./index.js').MeshPeer} MeshPeer */
/** @typedef {{ kind: 'unresolvable' | 'refused' | 'timeout' } | { kind: 'connect', host: string, port: number, peer?: MeshPeer, intercepted: boolean }} Route */

export class Network {
  /** @type {Set<string>} `from→to:api-server` and `from→to:gateway`: what a firewall drops */
  #firewalls = new Set()
  /** @type {Map<string, Promise<{ host: string, port: number, close(): Promise<void> }>>} `from→to` → proxy */
  #proxies = new Map()
  /** @type {Set<string>} clusters whose gateway sits behind an L7 load balancer */
  #l7 = new Set()
  /** @type {Map<string, number>} cluster → ms after the address appeared before the gateway forwards */
  #forwardDelay = new Map()

  /** @param {() => MeshPeer[]} clusters */
  constructor(clusters) {
    this.clusters = clusters
  }

  /**
   * Drops connections from `from` to `to`'s API server and gateway (or only `only`): connects time out.
   * @param {string} from @param {string} to @param {'api-server' | 'gateway'} [only]
   */
  firewall(from, to, only) {
    const keys = (only ? [only] : ['api-server', 'gateway']).map((t) => `${from}→${to}:${t}`)
    for (const k of keys) this.#firewalls.add(k)
    return () => keys.forEach((k) => this.#firewalls.delete(k))
  }

  /**
   * From `from`, `to`'s API server is behind a TLS-intercepting proxy with a CA of its own. Resolves once the proxy
   * listens; returns a remover.
   * @param {string} from @param {string} to
   */
  async intercept(from, to) {
    const key = `${from}→${to}`
    if (!this.#proxies.has(key)) this.#proxies.set(key, startProxy(`proxy-${from}-${to}`))
    await this.#proxies.get(key)
    return async () => {
      const p = this.#proxies.get(key)
      this.#proxies.delete(key)
      await (await p)?.close()
    }
  }

  /** `cluster`'s gateway address is an L7 load balancer that terminates TLS (and answers HTTP itself). */
  l7Gateway(/** @type {string} */ cluster) {
    this.#l7.add(cluster)
    return () => void this.#l7.delete(cluster)
  }

  /** `cluster`'s gateway address forwards only `ms` after it appeared in the Service status. */
  gatewayForwardsAfter(/** @type {string} */ cluster, /** @type {number} */ ms) {
    this.#forwardDelay.set(cluster, ms)
    return () => void this.#forwardDelay.delete(cluster)
  }

  /** @param {string} from @param {string} to @param {'api-server' | 'gateway'} [target] either, without one */
  blocked(from, to, target) {
    const k = `${from}→${to}`
    return target
      ? this.#firewalls.has(`${k}:${target}`)
      : this.#firewalls.has(`${k}:api-server`) || this.#firewalls.has(`${k}:gateway`)
  }

  /**
   * Where a TCP connection from a pod in `from` to host:port ends.
   * @param {string} from @param {string} host @param {number} port
   * @returns {Promise<Route>}
   */
  async route(from, host, port) {
    const h = host.replace(/^\[|\]$/g, '')
    const peer = this.clusters().find((p) => p.reachableHost === h)
    if (!peer && LOOPBACK.test(h)) return { kind: 'refused' }
    if (peer) {
      if (this.blocked(from, peer.name, 'api-server')) return { kind: 'timeout' }
      if (port !== peer.port) return { kind: 'refused' }
      const proxy = this.#proxies.get(`${from}→${peer.name}`)
      if (proxy) {
        const p = await proxy
        return { kind: 'connect', host: p.host, port: p.port, peer, intercepted: true }
      }
      return { kind: 'connect', host: h, port, peer, intercepted: false }
    }
    if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) return { kind: /^192\.0\.2\./.test(h) ? 'timeout' : 'refused' }
    return { kind: 'unresolvable' }
  }

  /**
   * What answers at `host`:15443 from a pod in `from`: the cluster whose istio-eastwestgateway has that address.
   * @param {string} from @param {string} host
   * @returns {{ kind: 'unresolvable' | 'refused' | 'timeout' | 'l7' | 'passthrough', peer?: MeshPeer }}
   */
  gateway(from, host) {
    const peer = this.clusters().find((p) => gatewayIngress(p).some((i) => i.ip === host || i.hostname === host))
    if (!peer) return { kind: /^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'timeout' : 'unresolvable' }
    if (this.blocked(from, peer.name, 'gateway')) return { kind: 'timeout', peer }
    const svc = peer.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
    const ports = svc?.spec?.ports
    if (Array.isArray(ports) && ports.length && !ports.some((/** @type {any} */ p) => Number(p.port) === 15443))
      return { kind: 'refused', peer }
    const delay = this.#forwardDelay.get(peer.name)
    if (delay !== undefined && Date.now() < addressSince(peer) + delay) return { kind: 'timeout', peer }
    if (this.#l7.has(peer.name)) return { kind: 'l7', peer }
    return { kind: 'passthrough', peer }
  }

  /** Why traffic from `from` cannot use `to`'s gateway, or undefined (for traffic.js). */
  gatewayProblem(/** @type {string} */ from, /** @type {string} */ to) {
    const peer = this.clusters().find((p) => p.name === to)
    const address = peer && gatewayIngress(peer).map((i) => i.ip || i.hostname)[0]
    if (!address) return undefined
    const g = this.gateway(from, address)
    if (g.kind === 'passthrough') return undefined
    return g.kind === 'l7'
      ? `${to}'s gateway address ${address} is an L7 load balancer that terminates TLS`
      : `${to}'s gateway ${address}:15443 is not reachable from ${from} (${g.kind})`
  }

  /**
   * For the simulated istiod of `from` (istioctl remote-clusters): API server addresses it cannot reach or whose
   * certificate it cannot verify, as host:port.
   * @param {string} from
   */
  istiodView(from) {
    const unreachable = this.clusters()
      .filter(
        (p) => p.name !== from && (this.blocked(from, p.name, 'api-server') || this.#proxies.has(`${from}→${p.name}`))
      )
      .map((p) => `${p.reachableHost}:${p.port}`)
    return { unreachable }
  }

  async close() {
    const proxies = [...this.#proxies.values()]
    this.#proxies.clear()
    await Promise.all(proxies.map(async (p) => (await p).close()))
  }
}

/** @param {MeshPeer} peer @returns {any[]} */
function gatewayIngress(peer) {
  const svc = peer.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
  return svc?.status?.loadBalancer?.ingress || []
}

/** When the gateway's address appeared: the EnsuredLoadBalancer Event of the Service, else now. */
function addressSince(/** @type {MeshPeer} */ peer) {
  const svc = peer.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
  const ensured = peer.store
    .list('v1', 'Event', 'istio-system')
    .filter((e) => e.involvedObject?.uid === svc?.metadata?.uid && e.reason === 'EnsuredLoadBalancer')
    .map((e) => Date.parse(e.lastTimestamp))
  // Timestamps have whole seconds: count from the end of the second named, so it never forwards early.
  return ensured.length ? Math.max(...ensured) + 1000 : Date.now()
}

/**
 * A TLS-intercepting proxy: completes the handshake with a certificate of its own CA (for any name the client
 * asks for), so a client that verifies against the real server's CA fails before sending anything.
 * @param {string} name
 */
async function startProxy(name) {
  const { certPem, keyPem } = await issueServerCertificate({
    commonName: name,
    ips: ['127.0.0.1'],
    dnsNames: ['localhost']
  })
  const server = https.createServer({ cert: certPem, key: keyPem }, (_req, res) => {
    res.writeHead(502, { 'Content-Type': 'text/plain' })
    res.end('proxy: upstream not allowed\n')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port
  return {
    host: '127.0.0.1',
    port,
    close: () =>
      /** @type {Promise<void>} */ (
        new Promise((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      )
  }
}
