// One connection pool per TLS configuration for the life of the process, as client-go keeps it: its transport cache
// hands every client with the same TLS config the same http.Transport (k8s.io/client-go transport/cache.go,
// `tlsTransportCache.get`, keyed by `tlsConfigKey`), and Go's Transport keeps connections alive. Without it each
// request paid a TLS handshake and a fresh SecureContext (parsing the CA): `node --cpu-prof` on an install showed
// about half its CPU in TLSSocket setup and createSecureContext.
import http from 'node:http'
import https from 'node:https'

/** @type {Map<string, http.Agent>} */
const agents = new Map()

/**
 * The pooled agent for a server's TLS settings. Idle sockets are unref'd by Node's Agent (a CLI still exits when done)
 * and dropped after 4 s, before the API server's 5 s keep-alive timeout closes them under a request.
 * @param {{ https: boolean, caPem?: string, certPem?: string, keyPem?: string, insecure?: boolean, tlsServerName?: string }} o
 * @returns {http.Agent}
 */
export function pooledAgent(o) {
  const key = JSON.stringify([o.https, o.caPem, o.certPem, o.keyPem, !!o.insecure, o.tlsServerName])
  let agent = agents.get(key)
  if (!agent) {
    const common = { keepAlive: true, timeout: 4000 }
    agent = o.https
      ? new https.Agent({
          ...common,
          ca: o.caPem,
          cert: o.certPem,
          key: o.keyPem,
          rejectUnauthorized: !o.insecure,
          servername: o.tlsServerName
        })
      : new http.Agent(common)
    agents.set(key, agent)
  }
  return agent
}
