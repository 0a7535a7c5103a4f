// What the action's probe pod (src/manifests/probe.ts, issue 14) prints when it runs in a simulated cluster. The
// simulator does not run its shell script: it recognises the pod (label app.kubernetes.io/name=istio-multicluster-probe
// and the script's first line `# istio-multicluster-probe v2`), reads the targets from the Secret mounted at
// /etc/probe, and does what the script's curl calls would do, in the network model (network.js):
// - API server targets: the route from this cluster decides unresolvable (curl exit 6), refused (7) or timeout (28);
//   a reachable address gets REAL HTTPS requests (to the simulated API server, or to an intercepting proxy) with the
//   CA and the bearer token from the Secret, so an unknown authority (exit 60), 401 and 403 are what the server or
//   the TLS stack answers. Requests, in the script's order: /version, then a list of each kind istiod's remote
//   cluster controller watches (pilot/pkg/serviceregistry/kube/controller/controller.go@1.30.3: namespaces,
//   services, pods, endpointslices; nodes too, not served by the simulator), stopping at the first failure.
// - Gateway targets (port 15443, `curl -k`): unresolvable / refused / timeout as routed; an L7 load balancer
//   completes the TLS handshake and answers HTTP (exit 0, 502: its backend is a TLS passthrough listener); a
//   working gateway's AUTO_PASSTHROUGH listener finds no filter chain for the probe's SNI-less handshake and closes
//   the connection (Envoy: "If no filter chain matches, the connection is closed"), which curl reports as exit 35.
// - The gateways are tried after the API servers, each again every 2 s (the script's `sleep 2`) while it is
//   unresolvable, refused or timing out and the next try starts within $PROBE_RETRY_SECONDS (the container's env)
//   of the start, in real time: one line per gateway when it settles or at its last try. A gateway the network
//   model makes forward later (network.gatewayForwardsAfter) becomes reachable for the try after that moment.
//   Every line carries the whole seconds since the script started (`$(( $(date +%s) - start ))`). The pod stops
//   trying when it is deleted (its namespace removed) or the simulation closes.
// curl's texts are those of curl 8 (docs/libcurl/libcurl-errors.md: 6 COULDNT_RESOLVE_HOST, 7 COULDNT_CONNECT, 28
// OPERATION_TIMEDOUT, 35 SSL_CONNECT_ERROR, 60 PEER_FAILED_VERIFICATION). A timeout is reported at once (a real
// probe waits --connect-timeout, 5 s), to keep the tests fast.
import https from 'node:https'

export const PROBE_LABEL = 'istio-multicluster-probe'
const MARKER = '# istio-multicluster-probe v2'
const RETRY_EVERY_MS = 2000
const API_STEPS = [
  ['version', '/version'],
  ['namespaces', '/api/v1/namespaces?limit=1'],
  ['services', '/api/v1/services?limit=1'],
  ['pods', '/api/v1/pods?limit=1'],
  ['endpointslices', '/apis/discovery.k8s.io/v1/endpointslices?limit=1']
]

/** @typedef {import('./index.js').KubeObject} KubeObject */

/** @param {KubeObject} pod */
export function isProbePod(pod) {
  if (pod.metadata?.labels?.['app.kubernetes.io/name'] !== PROBE_LABEL) return false
  return (pod.spec?.containers || []).some((/** @type {any} */ c) =>
    [...(c.command || []), ...(c.args || [])].some((a) => String(a).startsWith(MARKER))
  )
}

/**
 * @param {import('./context.js').ControllerContext} ctx @param {KubeObject} pod
 * @returns {Promise<{ log: string, exitCode: number }>}
 */
export async function runProbePod(ctx, pod) {
  const container = pod.spec.containers[0]
  const mount = (container.volumeMounts || []).find((/** @type {any} */ m) => m.mountPath === '/etc/probe')
  const volume = (pod.spec.volumes || []).find((/** @type {any} */ v) => v.name === mount?.name)
  const secret = volume?.secret && ctx.store.get('v1', 'Secret', pod.metadata.namespace, volume.secret.secretName)
  if (!secret) return { log: "sh: can't open '/etc/probe/targets': No such file or directory\n", exitCode: 2 }
  const files = Object.fromEntries(
    Object.entries(secret.data || {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')])
  )
  const started = Date.now()
  const seconds = () => String(Math.floor((Date.now() - started) / 1000))
  const env = (container.env || []).find((/** @type {any} */ e) => e.name === 'PROBE_RETRY_SECONDS')
  const retryS = Number(env?.value) || 0
  const out = []
  /** @type {[string, string][]} */
  let gateways = []
  for (const raw of (files.targets || '').split('\n')) {
    const [kind, to, addr] = raw.trim().split(/\s+/)
    if (kind === 'api-server') out.push(...(await apiServer(ctx, files, to, addr, seconds)))
    if (kind === 'gateway') gateways.push([to, addr])
  }
  const alive = () =>
    !ctx.closing &&
    ctx.store.get('v1', 'Pod', pod.metadata.namespace, pod.metadata.name)?.metadata.uid === pod.metadata.uid
  while (gateways.length) {
    /** @type {[string, string][]} */
    const pending = []
    for (const [to, host] of gateways) {
      const g = gateway(ctx, to, host, seconds)
      const again = ['unresolvable', 'refused', 'timeout'].includes(g.kind)
      if (again && Math.floor((Date.now() - started) / 1000) + 2 <= retryS) pending.push([to, host])
      else out.push(g.line)
    }
    gateways = pending
    if (!gateways.length) break
    await new Promise((r) => setTimeout(r, RETRY_EVERY_MS))
    if (!alive()) return { log: `${out.join('\n')}\n`, exitCode: 137 }
  }
  out.push('probe\tdone')
  return { log: `${out.join('\n')}\n`, exitCode: 0 }
}

/** @param {...string} f */
const line = (...f) => ['probe', ...f].join('\t')

/**
 * @param {import('./context.js').ControllerContext} ctx @param {Record<string, string>} files
 * @param {string} to @param {string} addr @param {() => string} seconds
 */
async function apiServer(ctx, files, to, addr, seconds) {
  /** @type {URL} */
  let url
  try {
    url = new URL(addr)
  } catch {
    return [
      line(
        'api-server',
        to,
        'version',
        '3',
        '000',
        seconds(),
        'curl: (3) URL rejected: Malformed input to a URL function'
      )
    ]
  }
  const port = Number(url.port || 443)
  const route = await ctx.mesh.network.route(ctx.name, url.hostname, port)
  if (route.kind !== 'connect')
    return [line('api-server', to, 'version', ...withSeconds(curlFailure(route.kind, url.hostname, port), seconds))]
  const token = /^Authorization:\s*Bearer\s+(.+)$/im.exec(files[`${to}.auth`] || '')?.[1]?.trim()
  const lines = []
  for (const [step, path] of API_STEPS) {
    const r = await request({
      host: route.host,
      port: route.port,
      servername: /^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) ? undefined : url.hostname,
      ca: files[`${to}.ca.crt`],
      insecure: `${to}.insecure` in files,
      token,
      path
    })
    lines.push(line('api-server', to, step, ...withSeconds(r, seconds)))
    if (r[0] !== '0' || r[1] !== '200') break
  }
  return lines
}

/**
 * One `curl -sS -o body -w '%{http_code}'`: [exit code, http code, stderr + body on failure].
 * @param {{ host: string, port: number, servername?: string, ca?: string, insecure: boolean, token?: string, path: string }} o
 * @returns {Promise<[string, string, string]>}
 */
function request(o) {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: o.host,
        port: o.port,
        path: o.path,
        method: 'GET',
        servername: o.servername,
        ca: o.insecure ? undefined : o.ca || undefined,
        rejectUnauthorized: !o.insecure,
        // The probe connects by IP; curl checks the IP against the certificate's SANs like this.
        checkServerIdentity: () => undefined,
        headers: { Accept: 'application/json', ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}) },
        timeout: 10_000,
        agent: false
      },
      (res) => {
        const chunks = /** @type {Buffer[]} */ ([])
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const code = String(res.statusCode || 0)
          const body = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').slice(0, 300)
          resolve(['0', code, code === '200' ? '' : body])
        })
      }
    )
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    req.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
      if (err.code === 'ETIMEDOUT')
        return resolve(['28', '000', 'curl: (28) Operation timed out after 10002 milliseconds with 0 bytes received'])
      if (err.code === 'ECONNREFUSED') return resolve(curlFailure('refused', o.host, o.port))
      // Node reports OpenSSL's verify error (e.g. "unable to get local issuer certificate"), as curl does.
      if (/certificate|self.signed|issuer/i.test(err.message))
        return resolve(['60', '000', `curl: (60) SSL certificate problem: ${err.message}`])
      resolve(['35', '000', `curl: (35) ${err.message}`])
    })
    req.end()
  })
}

/** @param {'unresolvable' | 'refused' | 'timeout'} kind @param {string} host @param {number} port @returns {[string, string, string]} */
function curlFailure(kind, host, port) {
  if (kind === 'unresolvable') return ['6', '000', `curl: (6) Could not resolve host: ${host}`]
  if (kind === 'timeout') return ['28', '000', 'curl: (28) Connection timed out after 5002 milliseconds']
  return ['7', '000', `curl: (7) Failed to connect to ${host} port ${port} after 0 ms: Couldn't connect to server`]
}

/** The script's line order: exit, HTTP code, seconds, text. @param {[string, string, string]} r @param {() => string} seconds */
const withSeconds = ([exit, http, text], seconds) => [exit, http, seconds(), text]

/**
 * One try of a gateway: what the network model routes it to, and the line the script would print for it.
 * @param {import('./context.js').ControllerContext} ctx @param {string} to @param {string} host @param {() => string} seconds
 */
function gateway(ctx, to, host, seconds) {
  const g = ctx.mesh.network.gateway(ctx.name, host)
  if (g.kind === 'l7') return { kind: g.kind, line: line('gateway', to, 'connect', '0', '502', seconds(), '') }
  if (g.kind === 'passthrough')
    return {
      kind: g.kind,
      line: line(
        'gateway',
        to,
        'connect',
        '35',
        '000',
        seconds(),
        `curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to ${host}:15443 `
      )
    }
  return {
    kind: g.kind,
    line: line('gateway', to, 'connect', ...withSeconds(curlFailure(g.kind, host, 15443), seconds))
  }
}
