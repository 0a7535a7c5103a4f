// Kubeconfig loading like client-go: --kubeconfig, else $KUBECONFIG (colon list, first file wins per
// entry), else ~/.kube/config; then the context's cluster and user, with exec plugins run for a token.
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve, delimiter } from 'node:path'
import { spawnSync } from 'node:child_process'
import * as yaml from 'js-yaml'
import { CliError } from './errors.js'

/** @typedef {Record<string, any> & { name: string, baseDir: string }} NamedEntry a clusters/users/contexts entry and the folder of its file */
/**
 * @typedef {object} Kubeconfig the merged files, as client-go merges them
 * @property {string[]} files
 * @property {Map<string, NamedEntry>} clusters
 * @property {Map<string, NamedEntry>} users
 * @property {Map<string, NamedEntry>} contexts
 * @property {string} currentContext
 */

/** @param {string} path */
function readConfigFile(path) {
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const e = /** @type {NodeJS.ErrnoException} */ (err)
    if (e.code === 'ENOENT') throw new CliError(`stat ${path}: no such file or directory`)
    throw new CliError(`open ${path}: ${e.message}`)
  }
  /** @type {any} parsed YAML: any shape */
  let doc
  try {
    // client-go decodes only the first YAML document of a kubeconfig file (go-yaml's Unmarshal).
    doc = yaml.loadAll(text)[0] || {}
  } catch (err) {
    throw new CliError(
      `error loading config file "${path}": ${String(/** @type {Error} */ (err).message).split('\n')[0]}`
    )
  }
  return { path, doc }
}

/** @param {Map<string, NamedEntry>} target @param {any[] | undefined} list @param {string} baseDir */
function mergeNamed(target, list, baseDir) {
  for (const entry of list || []) {
    if (!entry || !entry.name || target.has(entry.name)) continue
    target.set(entry.name, { ...entry, baseDir })
  }
}

/**
 * @param {{ kubeconfig?: string, env?: NodeJS.ProcessEnv }} opts
 * @returns {Kubeconfig}
 */
export function loadKubeconfig({ kubeconfig, env = process.env } = {}) {
  /** @type {Array<{ path: string, doc: any }>} */
  let files
  if (kubeconfig) {
    files = [readConfigFile(resolve(kubeconfig))]
  } else if (env.KUBECONFIG) {
    files = env.KUBECONFIG.split(delimiter)
      .filter((p) => p && existsSync(p))
      .map((p) => readConfigFile(resolve(p)))
  } else {
    const def = join(env.HOME || homedir(), '.kube', 'config')
    files = existsSync(def) ? [readConfigFile(def)] : []
  }
  /** @type {Map<string, NamedEntry>} */
  const clusters = new Map()
  /** @type {Map<string, NamedEntry>} */
  const users = new Map()
  /** @type {Map<string, NamedEntry>} */
  const contexts = new Map()
  let currentContext = ''
  for (const { path, doc } of files) {
    const baseDir = dirname(path)
    mergeNamed(clusters, doc.clusters, baseDir)
    mergeNamed(users, doc.users, baseDir)
    mergeNamed(contexts, doc.contexts, baseDir)
    if (!currentContext && doc['current-context']) currentContext = doc['current-context']
  }
  return { files: files.map((f) => f.path), clusters, users, contexts, currentContext }
}

/**
 * Resolve the context to use; errors read like client-go's ConfirmUsable.
 * @param {Kubeconfig} config
 * @param {string | undefined} contextFlag
 * @returns {{ contextName: string, clusterName: string, cluster: any, user: any, userName: string, baseDir: string, clusterBaseDir: string,
 *   namespace?: string }} baseDir: the user entry's folder, clusterBaseDir the cluster entry's (relative file names start there)
 */
export function resolveContext(config, contextFlag) {
  if (config.files.length === 0) {
    throw new CliError(
      'invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable'
    )
  }
  const contextName = contextFlag || config.currentContext
  if (!contextName) {
    throw new CliError(
      'invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable'
    )
  }
  const ctxEntry = config.contexts.get(contextName)
  if (!ctxEntry) {
    throw new CliError(
      `invalid configuration: [context was not found for specified context: ${contextName}, cluster has no server defined]`
    )
  }
  const ctx = ctxEntry.context || {}
  const clusterEntry = config.clusters.get(ctx.cluster)
  if (!clusterEntry || !clusterEntry.cluster?.server) {
    throw new CliError(`invalid configuration: [cluster has no server defined]`)
  }
  const userEntry = config.users.get(ctx.user) || { user: {}, baseDir: clusterEntry.baseDir }
  return {
    contextName,
    clusterName: ctx.cluster,
    cluster: clusterEntry.cluster,
    user: userEntry.user || {},
    userName: ctx.user || '',
    baseDir: userEntry.baseDir,
    clusterBaseDir: clusterEntry.baseDir,
    namespace: ctx.namespace
  }
}

/** @param {string} path @param {string} baseDir */
function readMaybeRelative(path, baseDir) {
  return readFileSync(isAbsolute(path) ? path : join(baseDir, path), 'utf8')
}

const fromB64 = (/** @type {unknown} */ s) => Buffer.from(String(s), 'base64').toString('utf8')

/**
 * TLS settings of a kubeconfig cluster entry.
 * @param {any} cluster @param {string} baseDir
 * @returns {{ server: string, caPem: string | undefined, insecure: boolean, tlsServerName: string | undefined }}
 */
export function clusterTls(cluster, baseDir) {
  const ca = cluster['certificate-authority-data']
    ? fromB64(cluster['certificate-authority-data'])
    : cluster['certificate-authority']
      ? readMaybeRelative(cluster['certificate-authority'], baseDir)
      : undefined
  return {
    server: cluster.server,
    caPem: ca,
    insecure: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name']
  }
}

// client-go runs an exec plugin once per process and caches the credential.
/** @type {Map<string, { token?: string, certPem?: string, keyPem?: string }>} */
const execCache = new Map()

/** @param {any} exec the user's exec entry @param {string} baseDir */
function runExecPlugin(exec, baseDir) {
  const key = JSON.stringify(exec)
  if (execCache.has(key)) return execCache.get(key)
  // A command with a path separator is relative to the kubeconfig file, like client-go's ResolvePaths.
  const command = exec.command.includes('/') && !isAbsolute(exec.command) ? join(baseDir, exec.command) : exec.command
  const env = { ...process.env }
  for (const e of exec.env || []) env[e.name] = e.value
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion: exec.apiVersion || 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    spec: { interactive: false }
  })
  const r = spawnSync(command, exec.args || [], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.error) {
    if (/** @type {NodeJS.ErrnoException} */ (r.error).code === 'ENOENT') {
      const hint = exec.installHint ? `\n\n${exec.installHint}` : ''
      throw new CliError(`getting credentials: exec: executable ${exec.command} not found${hint}`)
    }
    throw new CliError(`getting credentials: exec: ${r.error.message}`)
  }
  if (r.status !== 0) {
    throw new CliError(`getting credentials: exec: executable ${exec.command} failed with exit code ${r.status}`)
  }
  let cred
  try {
    cred = JSON.parse(r.stdout)
  } catch (err) {
    throw new CliError(`getting credentials: decoding stdout: ${/** @type {Error} */ (err).message}`)
  }
  if (cred?.kind !== 'ExecCredential') {
    throw new CliError(`getting credentials: decoding stdout: no kind "${cred?.kind}" is registered`)
  }
  const status = cred.status || {}
  const out = {
    token: status.token,
    certPem: status.clientCertificateData,
    keyPem: status.clientKeyData
  }
  if (!out.token && !(out.certPem && out.keyPem)) {
    throw new CliError("getting credentials: exec plugin didn't return a token or cert/key pair")
  }
  execCache.set(key, out)
  return out
}

/**
 * Credentials of a kubeconfig user entry: bearer token, client certificate, basic auth, or exec plugin.
 * @param {any} user @param {string} baseDir
 */
export function userCredentials(user, baseDir) {
  /** @type {{ token?: string, certPem?: string, keyPem?: string, basic?: { username: string, password: string } }} */
  const creds = {}
  if (user['client-certificate-data']) creds.certPem = fromB64(user['client-certificate-data'])
  else if (user['client-certificate']) creds.certPem = readMaybeRelative(user['client-certificate'], baseDir)
  if (user['client-key-data']) creds.keyPem = fromB64(user['client-key-data'])
  else if (user['client-key']) creds.keyPem = readMaybeRelative(user['client-key'], baseDir)
  if (user.token) creds.token = user.token
  else if (user.tokenFile) creds.token = readMaybeRelative(user.tokenFile, baseDir).trim()
  if (user.username && user.password) creds.basic = { username: user.username, password: user.password }
  if (user.exec && !creds.token && !creds.certPem) Object.assign(creds, runExecPlugin(user.exec, baseDir))
  return creds
}
