// A simulated Kubernetes API server for end-to-end tests driven by the real kubectl: HTTPS + bearer
// tokens, discovery, /openapi/v3, REST with watches, a few controllers and injectable faults.
// See README.md in this folder for the API and the known gaps versus a real API server.
import https from 'node:https'
import { randomBytes } from 'node:crypto'
import { issueServerCertificate } from './tls.js'
import { Store } from './store.js'
import { ResourceRegistry } from './resources.js'
import { Defaulter } from './defaults.js'
import { Faults } from './faults.js'
import { RETIRED_REGISTRIES, startControllers } from './controllers.js'
import { handleRequest, handleUpgrade } from './handler.js'
import { createMesh } from './mesh.js'

export { Store } from './store.js'
export { createMesh, Mesh } from './mesh.js'
export { RETIRED_REGISTRIES } from './controllers.js'

// The options, the cluster handed back and the types tests see are declared once, in index.d.ts: what this file
// returns is checked against them.

/**
 * @param {import('./index.js').ApiServerOptions} opts
 * @returns {Promise<import('./index.js').SimCluster>}
 */
export async function startApiServer(opts) {
  const { name, index, adminToken } = opts
  if (!name || !Number.isInteger(index) || index < 1 || index > 253)
    throw new Error('startApiServer: name and a 1-based index (≤ 253) are required')
  if (!adminToken) throw new Error('startApiServer: adminToken is required')
  if (opts.mesh?.byName(name))
    throw new Error(`startApiServer: the mesh already has a cluster named ${JSON.stringify(name)}`)
  const reachableHost = `127.0.0.${index + 1}`
  const { caPem, certPem, keyPem } = await issueServerCertificate({
    commonName: `${name}-apiserver`,
    ips: ['127.0.0.1', reachableHost],
    dnsNames: ['localhost']
  })

  const store = new Store()
  /** @type {Map<string, { namespace: string, serviceAccount: string }>} */
  const issued = new Map() // service-account token → { namespace, serviceAccount }
  /** @type {import('./context.js').ServerContext} */
  const ctx = {
    name,
    index,
    adminToken,
    caPem,
    reachableHost,
    port: 0,
    lb: { mode: 'ip', delayMs: 0, ...opts.lb },
    latencyMs: opts.latencyMs || 0,
    deploymentReadyDelayMs: opts.deploymentReadyDelayMs || 0,
    istioctlDelays: opts.istioctlDelays || {},
    remoteClusters: { ...opts.remoteClusters },
    // Shared with the controllers (by reference), so setUnpullableRegistries applies to pods created afterwards.
    images: { unpullable: [...(opts.unpullableRegistries ?? RETIRED_REGISTRIES)] },
    store,
    registry: new ResourceRegistry(store),
    defaulter: new Defaulter(),
    faults: new Faults(),
    requests: [],
    podLogs: new Map(), // `<namespace>/<pod>` → what its container printed (jobs.js)
    watches: new Set(), // end() of every open watch
    sockets: new Set(), // connections taken over through 'upgrade' (kubectl exec)
    mesh: opts.mesh || createMesh(),
    meshPeer: undefined,
    timers: new Set(), // pending per-request delays
    closing: false,
    issueToken(namespace, serviceAccount) {
      const b64url = (/** @type {object} */ o) => Buffer.from(JSON.stringify(o)).toString('base64url')
      // Shaped like a service-account JWT; only its presence in `issued` makes it valid.
      const token = [
        b64url({ alg: 'RS256', kid: `sim-${name}` }),
        b64url({
          iss: 'https://kubernetes.default.svc.cluster.local',
          sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
          'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount } },
          iat: Math.floor(Date.now() / 1000)
        }),
        randomBytes(32).toString('base64url')
      ].join('.')
      issued.set(token, { namespace, serviceAccount })
      return token
    },
    revokeToken(token) {
      issued.delete(token)
    },
    /** The authenticated user name, or undefined if the token is not accepted. */
    userFor(token) {
      if (!token) return undefined
      if (token === adminToken) return ctx.faults.tokenExpired() ? undefined : 'kubernetes-admin'
      const sa = issued.get(token)
      return sa && `system:serviceaccount:${sa.namespace}:${sa.serviceAccount}`
    }
  }

  const controllers = startControllers({ ...ctx, issueToken: ctx.issueToken, revokeToken: ctx.revokeToken })
  seed(store)

  const tls = { cert: certPem, key: keyPem }
  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  const handler = (req, res) => handleRequest(ctx, req, res)
  const { primary, secondary, port } = await listenOnBoth(tls, handler, reachableHost)
  ctx.port = port
  const servers = [primary, secondary]
  // The connection an https server hands over on 'upgrade' is its TLS socket (typed as a Duplex).
  for (const s of servers)
    s.on('upgrade', (req, socket, head) =>
      handleUpgrade(ctx, req, /** @type {import('node:net').Socket} */ (socket), head)
    )
  const meshPeer = {
    name,
    index,
    store,
    caPem,
    reachableHost,
    port,
    tokenIsValid: (/** @type {string} */ token) => ctx.userFor(token) !== undefined,
    roundRobin: new Map()
  }
  ctx.meshPeer = meshPeer
  ctx.mesh.add(meshPeer)

  /** @type {import('./index.js').SimCluster} */
  const cluster = {
    name,
    index,
    url: `https://127.0.0.1:${port}`,
    reachableUrl: `https://${reachableHost}:${port}`,
    caPem,
    adminToken,
    store,
    requests: ctx.requests,
    kubeconfig(contextName) {
      return kubeconfigYaml(contextName || name, `https://127.0.0.1:${port}`, caPem, adminToken)
    },
    setFault(fault) {
      return ctx.faults.add(fault)
    },
    clearFaults() {
      ctx.faults.clear()
    },
    setUnpullableRegistries(registries) {
      ctx.images.unpullable = [...registries]
    },
    tokenIsValid(token) {
      return ctx.userFor(token) !== undefined
    },
    issueToken: ctx.issueToken,
    mesh: ctx.mesh,
    async close() {
      if (ctx.closing) return
      ctx.closing = true
      controllers.stop()
      ctx.mesh.remove(meshPeer)
      for (const t of ctx.timers) clearTimeout(t)
      for (const end of [...ctx.watches]) end()
      for (const s of [...ctx.sockets]) s.destroy()
      await Promise.all(
        servers.map(
          (s) =>
            /** @type {Promise<void>} */ (
              new Promise((resolve) => {
                s.close(() => resolve())
                s.closeAllConnections() // includes hung requests and kubectl's keep-alive connections
              })
            )
        )
      )
    }
  }
  return cluster
}

/**
 * What every fresh cluster has.
 * @param {Store} store
 */
function seed(store) {
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    store.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' }
    })
  }
  store.put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]
    },
    status: { loadBalancer: {} }
  })
}

// Both listeners share one port: bind 127.0.0.1 on a free port, then the cluster's own address on the
// same number; retry with a new port in the unlikely case that one is taken there.
/**
 * @param {{ cert: string, key: string }} tls
 * @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => unknown} handler
 * @param {string} reachableHost
 */
async function listenOnBoth(tls, handler, reachableHost) {
  for (let attempt = 0; ; attempt++) {
    const primary = https.createServer(tls, handler)
    await listen(primary, 0, '127.0.0.1')
    const port = /** @type {import('node:net').AddressInfo} */ (primary.address()).port
    const secondary = https.createServer(tls, handler)
    try {
      await listen(secondary, port, reachableHost)
      return { primary, secondary, port }
    } catch (err) {
      await new Promise((r) => primary.close(r))
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EADDRINUSE' || attempt >= 10) throw err
    }
  }
}

/** @param {import('node:https').Server} server @param {number} port @param {string} host @returns {Promise<void>} */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** @param {string} ctxName @param {string} server @param {string} caPem @param {string} token */
function kubeconfigYaml(ctxName, server, caPem, token) {
  const q = JSON.stringify // JSON strings are valid YAML scalars, whatever the token holds
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(ctxName)}`,
    '  cluster:',
    `    server: ${q(server)}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'contexts:',
    `- name: ${q(ctxName)}`,
    '  context:',
    `    cluster: ${q(ctxName)}`,
    `    user: ${q(ctxName)}`,
    `current-context: ${q(ctxName)}`,
    'preferences: {}',
    'users:',
    `- name: ${q(ctxName)}`,
    '  user:',
    `    token: ${q(token)}`,
    ''
  ].join('\n')
}
