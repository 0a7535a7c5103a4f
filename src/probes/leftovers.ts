// Probe namespaces that may outlive a cancelled run: main saves the live ones in the action's state, so post (which
// runs after a cancel too) can delete them with the kubeconfig main then leaves in the work dir for it.
import * as core from '@actions/core'
import * as path from 'node:path'
import * as fs from 'node:fs'
import { runProcess } from '../exec.js'

export const PROBE_STATE = 'probe-namespaces'
const live = new Map<string, { cluster: string; namespace: string }>()

function save(): void {
  core.saveState(PROBE_STATE, JSON.stringify([...live.values()]))
}

export function trackProbeNamespace(cluster: string, namespace: string): void {
  live.set(`${cluster}/${namespace}`, { cluster, namespace })
  save()
}

export function untrackProbeNamespace(cluster: string, namespace: string): void {
  if (live.delete(`${cluster}/${namespace}`)) save()
}

/** Whether a probe namespace may still exist: then main keeps the kubeconfig for post. */
export function probeNamespacesLeft(): boolean {
  return live.size > 0
}

/** Post: deletes the probe namespaces main saved as live, with the kubeconfig in its work dir; each bounded. */
export async function removeLeftoverProbes(workdir: string, saved: string): Promise<string[]> {
  let entries: { cluster: string; namespace: string }[] = []
  try {
    entries = JSON.parse(saved || '[]') as { cluster: string; namespace: string }[]
  } catch {
    return []
  }
  const kubeconfig = path.join(workdir, 'kubeconfig')
  if (!entries.length || !fs.existsSync(kubeconfig)) return []
  const done: string[] = []
  for (const { cluster, namespace } of entries) {
    const r = await runProcess(
      'kubectl',
      [
        '--kubeconfig',
        kubeconfig,
        '--context',
        cluster,
        'delete',
        'namespace',
        namespace,
        '--ignore-not-found',
        '--wait=false',
        '--request-timeout=20s'
      ],
      { timeoutMs: 30_000, env: { ...process.env, KUBECACHEDIR: path.join(workdir, 'kube-cache') } }
    )
    // Nothing printed: main's own delete (during the cancel) had removed it already.
    if (r.exitCode === 0 && !/deleted/.test(r.stdout)) continue
    done.push(
      r.exitCode === 0
        ? `Removed ${namespace} in ${cluster}.`
        : `Could not remove ${namespace} in ${cluster}: ${r.stderr.trim().slice(-300)}`
    )
  }
  return done
}
