// `istioctl version` (pkg/version/cobra.go): --short and --remote default to true; -o yaml|json.
import { createHash } from 'node:crypto'
import * as yaml from 'js-yaml'
import { CliError } from './errors.js'
import { Kube, KubeError, collectionPath } from './kube.js'
import { CLIENT_VERSION } from './runtime.js'

/** BuildInfo with a stable fake git revision per version. */
export function buildInfo(version = CLIENT_VERSION) {
  return {
    version,
    revision: createHash('sha1').update(`istio-${version}`).digest('hex'),
    golang_version: 'go1.24.6',
    status: 'Clean',
    tag: version
  }
}

/** @typedef {ReturnType<typeof buildInfo>} BuildInfo */

/**
 * GetIstioVersions: one entry per ready istiod, from its Deployment's operator.istio.io/version label.
 * @param {Record<string, any>} f parsed flags
 * @returns {Promise<Array<{ Component: string, Revision?: string, Info: BuildInfo }>>}
 */
async function meshInfo(f) {
  const kube = Kube.fromFlags(f)
  const ns = f.istioNamespace
  /** @type {any[]} */
  const deps = (await kube.list(collectionPath('apps/v1', 'Deployment', ns), { labelSelector: 'app=istiod' })) || []
  const ready = deps.filter((d) => (d.status?.readyReplicas || 0) > 0)
  if (!ready.length) throw new CliError(`no running Istio pods in namespace "${ns}"`)
  return ready.map((d) => ({
    Component: 'pilot',
    Revision: d.metadata.labels?.['istio.io/rev'] || 'default',
    Info: buildInfo(d.metadata.labels?.['operator.istio.io/version'] || 'unknown')
  }))
}

/**
 * @param {Record<string, any>} f parsed flags
 * @param {{ stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }} io
 */
export async function runVersion(f, io) {
  const output = f.output || ''
  if (output && output !== 'yaml' && output !== 'json') throw new CliError("--output must be 'yaml' or 'json'")
  /** @type {{ clientVersion: BuildInfo, meshVersion?: object, dataPlaneVersion?: object[] }} */
  const version = { clientVersion: buildInfo() }
  /** @type {Awaited<ReturnType<typeof meshInfo>> | undefined} */
  let remote
  if (f.remote) {
    try {
      remote = await meshInfo(f)
      version.meshVersion = remote
      version.dataPlaneVersion = []
    } catch (err) {
      if (!(err instanceof CliError || err instanceof KubeError)) throw err
      // getRemoteInfoWrapper prints this and carries on with the client version.
      io.stderr.write(`Istio is not present in the cluster: ${err.message}\n`)
    }
  }
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify(version, null, 2)}\n`)
    return
  }
  if (output === 'yaml') {
    io.stdout.write(`${yaml.dump(version, { lineWidth: -1 })}\n`)
    return
  }
  const goLong = (/** @type {BuildInfo} */ b) =>
    `version.BuildInfo{Version:"${b.version}", GitRevision:"${b.revision}", GolangVersion:"${b.golang_version}", BuildStatus:"${b.status}", GitTag:"${b.tag}"}`
  if (f.short) {
    io.stdout.write(`client version: ${CLIENT_VERSION}\n`)
    if (remote) {
      const first = remote[0]
      const same = remote.every((r) => r.Info.version === first.Info.version)
      const shown = same ? [{ Component: 'control plane', Info: first.Info }] : remote
      for (const r of shown) io.stdout.write(`${r.Component} version: ${r.Info.version}\n`)
      io.stdout.write('data plane version: none\n')
    }
  } else {
    io.stdout.write(`client version: ${goLong(version.clientVersion)}\n`)
    for (const r of remote || []) io.stdout.write(`${r.Component} version: ${goLong(r.Info)}\n`)
  }
}
