import { Config } from '../config/index.js'
import { ISTIO_NAMESPACE, MULTICLUSTER_LABEL, READER_CLUSTER_ROLE } from '../istio-names.js'
import { VERIFY_NAMESPACE } from '../manifests/helloworld.js'
import type { StepKind } from './registry.js'
import { Step, StepAction, stepId } from './step.js'
import { ambientUninstallSteps } from './topology-ambient.js'

/** mode: uninstall — per cluster: remote secrets, then Istio itself (all revisions, CRDs, webhooks), then the namespace. */
export function buildUninstallPlan(config: Config): Step[] {
  const steps: Step[] = []
  for (const c of config.clusters) {
    const add = (kind: StepKind, title: string, needs: StepKind[], action: StepAction) =>
      steps.push({
        id: stepId(c.name, kind),
        cluster: c.name,
        kind,
        title,
        needs: needs.map((n) => stepId(c.name, n)),
        action
      })
    add('remove-remote-secrets', 'remove remote secrets', [], {
      type: 'delete',
      target: { resource: 'secret', namespace: ISTIO_NAMESPACE, selector: `${MULTICLUSTER_LABEL}=true` }
    })
    add('remove-verify', `remove namespace ${VERIFY_NAMESPACE}`, [], {
      type: 'delete-namespace',
      namespace: VERIFY_NAMESPACE
    })
    add('uninstall', 'istioctl uninstall --purge', ['remove-remote-secrets', 'remove-verify'], {
      type: 'istioctl-uninstall'
    })
    // create-remote-secret's reader account is cluster-scoped RBAC outside what uninstall --purge owns.
    add('remove-reader', 'remove istio-reader RBAC', ['uninstall'], {
      type: 'delete',
      target: { resource: 'clusterrolebinding,clusterrole', names: [READER_CLUSTER_ROLE] }
    })
    if (!config.keepNamespace)
      add('remove-namespace', `delete namespace ${ISTIO_NAMESPACE}`, ['uninstall'], {
        type: 'delete-namespace',
        namespace: ISTIO_NAMESPACE,
        wait: true
      })
  }
  if (config.dataPlane === 'ambient') steps.push(...ambientUninstallSteps(config))
  return steps
}
