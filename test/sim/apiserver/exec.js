// POST|GET /api/v1/namespaces/<ns>/pods/<pod>/exec?command=…&container=…&stdout=true&stderr=true
// over a WebSocket (the remote-command protocol v5.channel.k8s.io, or v4), as kubectl ≥ 1.30 uses it.
//
// As a real API server: the pod and container are checked before the upgrade (404 / 400 Status as plain
// HTTP; kubectl then retries over SPDY, gets the same answer and prints it). After the upgrade the
// server sends an empty frame on the lowest writable channel, the command's output as binary frames whose
// first byte is the channel (1 stdout, 2 stderr), the final Status on channel 3 and a close frame
// (1000). Errors from the kubelet/runtime side (container not running, executable not found) arrive as
// InternalError Statuses on channel 3, worded as the 1.32 stream translator wraps them.
//
// The "container" runs one program: curl (traffic.js decides who answers). Any other command fails like
// containerd does when the executable is missing. SPDY upgrades are refused with a 400 Status.
import { randomBytes } from 'node:crypto'
import { ApiError, errors } from './status.js'
import { acceptWebSocket, isWebSocketRequest, offeredProtocols } from './websocket.js'
import { runCurl } from './traffic.js'

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io']
const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 }
const POD = { group: '', plural: 'pods', kind: 'Pod' }

/**
 * { namespace, name } when the path is a pod's exec subresource.
 * @param {string[]} segs
 * @returns {{ namespace: string, name: string } | undefined}
 */
export function execTarget(segs) {
  if (
    segs.length === 7 &&
    segs[0] === 'api' &&
    segs[1] === 'v1' &&
    segs[2] === 'namespaces' &&
    segs[4] === 'pods' &&
    segs[6] === 'exec'
  ) {
    return { namespace: segs[3], name: segs[5] }
  }
  return undefined
}

/**
 * The 403 a real server gives for pods/exec ("create" for POST, "get" for a WebSocket GET).
 * @param {string} user @param {string} method @param {{ namespace: string, name: string }} target
 */
export function execForbidden(user, method, { namespace, name }) {
  const verb = method === 'GET' ? 'get' : 'create'
  return new ApiError(
    403,
    'Forbidden',
    `pods "${name}" is forbidden: User "${user}" cannot ${verb} resource "pods/exec" in API group "" in the namespace "${namespace}"`,
    { name, kind: 'pods' }
  )
}

/** @param {string} message */
function internalError(message) {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500
  }
}

/** @param {number} code */
function exitStatus(code) {
  return {
    metadata: {},
    status: 'Failure',
    // The translator wraps client-go's CodeExitError, whose text is "command terminated with exit code N".
    message: `command terminated with non-zero exit code: command terminated with exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] }
  }
}

const goList = (/** @type {string[]} */ names) => `[${names.join(' ')}]`
/** @param {any[] | undefined} cs @returns {string[]} */
const namesOf = (cs) => (cs || []).map((c) => c.name)

/**
 * Checks of the API server's ExecLocation: pod, container, node. Returns the container name.
 * @param {import('./index.js').KubeObject} pod @param {string} name @param {string} container
 */
function checkPod(pod, name, container) {
  const containers = namesOf(pod.spec?.containers)
  const inits = namesOf(pod.spec?.initContainers)
  const ephemeral = namesOf(pod.spec?.ephemeralContainers)
  if (!container) {
    if (containers.length === 1) container = containers[0]
    else if (!containers.length) throw errors.badRequest(`a container name must be specified for pod ${name}`)
    else {
      throw errors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: ${goList(containers)}${inits.length ? ` or one of the init containers: ${goList(inits)}` : ''}`
      )
    }
  } else if (![...containers, ...inits, ...ephemeral].includes(container)) {
    throw errors.badRequest(`container ${container} is not valid for pod ${name}`)
  }
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`)
  return container
}

/**
 * What running `command` in the container gives: { stdout, stderr, exitCode } or { error } (an
 * InternalError message from the runtime).
 * @param {import('./context.js').ServerContext} ctx @param {import('./index.js').KubeObject} pod @param {string[]} command
 * @returns {{ error?: undefined, stdout: string, stderr: string, exitCode: number } | { error: string }}
 */
function runCommand(ctx, pod, command) {
  const [file, ...args] = command
  // meshPeer is set before the server takes requests (index.js).
  if (file === 'curl' || file === '/usr/bin/curl')
    return runCurl(ctx.mesh, /** @type {import('./index.js').MeshPeer} */ (ctx.meshPeer), pod, args)
  const execId = randomBytes(32).toString('hex')
  const why = file.includes('/') ? `stat ${file}: no such file or directory` : 'executable file not found in $PATH'
  // containerd's error, wrapped by the kubelet and again by the API server's stream translator.
  return {
    error:
      `Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "${execId}": ` +
      `OCI runtime exec failed: exec failed: unable to start container process: exec: "${file}": ${why}: unknown`
  }
}

/**
 * Serves one exec request. `upgrade` is { socket, head } when the request came through the server's
 * 'upgrade' event (only then can the WebSocket be accepted).
 * @param {import('./context.js').ServerContext} ctx
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {{ namespace: string, name: string }} target
 * @param {{ socket: import('node:net').Socket, head: Buffer }} [upgrade]
 */
export function serveExec(ctx, req, res, url, target, upgrade) {
  if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed()
  const q = url.searchParams
  const pod = ctx.store.get('v1', 'Pod', target.namespace, target.name)
  if (!pod) throw errors.notFound(POD, target.name)
  const container = checkPod(pod, target.name, q.get('container') || '')
  const command = q.getAll('command')
  if (!command.length) throw errors.badRequest('you must specify at least one command for the container')
  const flag = (/** @type {string} */ n) => q.get(n) === 'true' || q.get(n) === '1'
  const opts = { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr'), tty: flag('tty') }

  if (!upgrade || !isWebSocketRequest(req)) {
    const spdy = /spdy/i.test(String(req.headers.upgrade || ''))
    throw errors.badRequest(
      spdy
        ? 'the simulated API server speaks the WebSocket remote-command protocol only (v5.channel.k8s.io, v4.channel.k8s.io): SPDY upgrades are refused'
        : 'Upgrade request required'
    )
  }
  const key = req.headers['sec-websocket-key']
  if (!key || String(req.headers['sec-websocket-version']) !== '13')
    throw errors.badRequest('websocket: missing Sec-WebSocket-Key or unsupported Sec-WebSocket-Version (want 13)')
  const offered = offeredProtocols(req)
  const protocol = offered.find((p) => PROTOCOLS.includes(p))
  if (!protocol)
    throw errors.badRequest(
      `requested protocol(s) are not supported: ${goList(offered)}; supports ${goList(PROTOCOLS)}`
    )

  // From here on the socket speaks WebSocket: take it back from the HTTP response.
  res.detachSocket(upgrade.socket)
  const { socket } = upgrade
  // stdin (0), resize (4) and v5's close signal (255) are read and ignored: nothing here reads input.
  const ws = acceptWebSocket(socket, upgrade.head, { key, protocol, onMessage: () => {} })
  /** @param {number} channel @param {string} data */
  const send = (channel, data) => ws.sendBinary(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]))
  /** @param {object} status */
  const finish = (status) => {
    send(CH.error, JSON.stringify(status))
    ws.close(1000)
  }

  // Tells the client the connection is established, as the API server's translator does.
  send(opts.stdout ? CH.stdout : opts.stderr ? CH.stderr : CH.error, '')
  const cs = (pod.status?.containerStatuses || []).find((/** @type {any} */ c) => c.name === container)
  if (pod.status?.phase !== 'Running' || (cs && !cs.state?.running)) {
    return finish(internalError(`unable to upgrade connection: container not found ("${container}")`))
  }
  const r = runCommand(ctx, pod, command)
  if (r.error !== undefined) return finish(internalError(r.error))
  // With a TTY the terminal merges stderr into stdout.
  const out = opts.tty ? r.stdout + r.stderr : r.stdout
  if (out && opts.stdout) send(CH.stdout, out)
  if (!opts.tty && r.stderr && opts.stderr) send(CH.stderr, r.stderr)
  finish(r.exitCode === 0 ? { metadata: {}, status: 'Success' } : exitStatus(r.exitCode))
}
