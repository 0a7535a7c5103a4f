// `istioctl uninstall` (operator/cmd/mesh/uninstall.go, operator/pkg/uninstall/prune.go): list what
// istioctl labelled (by revision / IOP name, or everything with --purge) and delete it.
import { CliError, SilentExit } from './errors.js'
import { Kube, KubeError, asCliError, collectionPath } from './kube.js'
import { mergeInputs, readInputs } from './iop.js'
import {
  CLUSTER_PRUNED_KINDS,
  NAMESPACED_PRUNED_KINDS,
  behave,
  gvkString,
  labelSelector,
  listKind,
  removedLine
} from './install.js'
import { ProgressLog } from './progress.js'
import { CLIENT_VERSION, confirm, readAllStdin } from './runtime.js'

/** @type {Array<[string, string]>} */
const ALL_CLUSTER = [
  ...CLUSTER_PRUNED_KINDS,
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
  ['k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition']
]
const NON_BASE = 'operator.istio.io/component in (Pilot,IngressGateways,EgressGateways,Cni,Ztunnel)'

/**
 * GetPrunedResources: purge = everything with a component label; otherwise by revision / IOP name.
 * @param {Kube} kube
 * @param {{ name?: string, namespace?: string, revision?: string, purge?: boolean }} by
 * @returns {Promise<any[]>}
 */
async function prunedResources(kube, { name, namespace, revision, purge }) {
  /** @type {Record<string, string>} */
  const labels = {}
  if (revision) labels['istio.io/rev'] = revision
  if (name) labels['install.operator.istio.io/owning-resource'] = name
  if (namespace) labels['install.operator.istio.io/owning-resource-namespace'] = namespace
  const selector = purge
    ? 'operator.istio.io/component'
    : [labelSelector(labels), NON_BASE, 'operator.istio.io/component'].filter(Boolean).join(',')
  const out = []
  for (const [apiVersion, kind] of [...NAMESPACED_PRUNED_KINDS, ...(purge ? ALL_CLUSTER : CLUSTER_PRUNED_KINDS)]) {
    out.push(...(await listKind(kube, apiVersion, kind, selector)))
  }
  return out
}

/**
 * The istiod revisions present (what `tag.ListRevisionDescriptions` finds), from the injector webhooks.
 * @param {Kube} kube
 */
async function revisions(kube) {
  /** @type {any[]} */
  const hooks =
    (await kube.list(collectionPath('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', ''), {
      labelSelector: 'app=sidecar-injector'
    })) || []
  return new Set(hooks.map((h) => h.metadata.labels?.['istio.io/rev'] || 'default'))
}

/**
 * @param {Record<string, any>} f parsed flags
 * @param {{ stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }} io
 */
export async function runUninstall(f, io) {
  const setRevision = (f.set || [])
    .map((/** @type {string} */ s) => /^\s*revision\s*=(.*)$/.exec(s)?.[1]?.trim())
    .filter(Boolean)
    .pop()
  if (!f.revision && !setRevision && !f.filename && !f.purge) {
    throw new CliError(
      'at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set'
    )
  }
  if (f.__args.length > 0) throw new CliError('istioctl uninstall does not take arguments')
  const kube = Kube.fromFlags(f)
  await behave(kube, 'uninstall')
  try {
    if (f.revision && !(await revisions(kube)).has(f.revision)) throw new CliError('could not find target revision')
    if (f.purge && (f.revision || f.filename)) {
      io.stdout.write(
        'Purge uninstall will remove all Istio resources, ignoring the specified revision or operator file\n'
      )
    }
    const set = [...(f.set || [])]
    if (f.revision && f.revision !== 'default') set.push(`revision=${f.revision}`)
    const iop = mergeInputs(readInputs(f.filename ? [f.filename] : [], readAllStdin), set, CLIENT_VERSION)
    const objects = await prunedResources(kube, {
      name: iop.metadata?.name,
      namespace: iop.metadata?.namespace,
      revision: f.revision,
      purge: f.purge
    })

    // preCheckWarnings
    let message = ''
    let needConfirmation = false
    if (f.purge) {
      needConfirmation = true
      message = 'All Istio resources will be pruned from the cluster\n'
    } else {
      if (!objects.length) {
        io.stdout.write('No resources will be pruned from the cluster. Please double check the input configs\n\n')
      } else {
        const gateways = objects
          .filter((o) => o.kind === 'Deployment' && o.metadata.name.includes('gateway'))
          .map((o) => o.metadata.name)
        if (f.verbose)
          message += `The following resources will be pruned from the cluster: ${objects.map((o) => `${o.kind}: ${o.metadata.name}.`).join(' ')}\n`
        if (gateways.length) {
          needConfirmation = true
          message +=
            `You are about to remove the following gateways: ${gateways.join(', ')}.` +
            ' To avoid downtime, please quit this command and reinstall the gateway(s) with a revision that is not being removed from the cluster.\n'
        }
      }
    }
    if (objects.length || f.purge) {
      if (f['dry-run'] || f['skip-confirmation']) io.stdout.write(`${message}\n`)
      else if (needConfirmation && !confirm(`${message}Proceed? (y/N)`, io.stdout)) {
        io.stderr.write('Cancelled.\n')
        throw new SilentExit(1)
      }
    }

    /** @type {string[]} */
    const errs = []
    for (const obj of objects) {
      if (f['dry-run']) {
        io.stdout.write(
          `Not pruning object ${gvkString(obj.apiVersion, obj.kind)}/${obj.metadata.name}.${obj.metadata.namespace || ''} because of dry run.\n`
        )
        continue
      }
      try {
        const gone = await kube.remove(obj.apiVersion, obj.kind, obj.metadata.namespace || '', obj.metadata.name)
        io.stdout.write(
          gone
            ? removedLine(obj)
            : `object: ${gvkString(obj.apiVersion, obj.kind)}/${obj.metadata.name}.${obj.metadata.namespace || ''} is not being deleted because it no longer exists\n`
        )
      } catch (err) {
        if (!(err instanceof KubeError)) throw err
        errs.push(err.message)
      }
    }
    if (errs.length) throw new CliError(`failed to delete control plane resources by revision: ${errs.join(', ')}`)
    new ProgressLog(io.stderr).uninstallComplete()
  } catch (err) {
    throw asCliError(err)
  }
}
