import type { DeleteTarget } from '../kube/kubectl.js'
import type { StepKind } from './registry.js'

/** What one step does; the runner's executor turns it into kubectl/istioctl commands. Pure data: a dry run prints it. */
export type StepAction =
  | { type: 'apply'; manifest: string }
  /** kubectl apply --server-side, unless `probe` (one object, e.g. a CRD) exists already. */
  | { type: 'apply-if-missing'; probe: { resource: string; name: string }; manifest: string }
  | { type: 'root-of-trust' }
  /** readinessWaits: how many components istioctl waits for one after another (sizes the process limit). */
  | { type: 'istioctl-install'; iop: string; readinessWaits: number }
  /** A remote's install: its primary's east-west gateway address (read when it runs) becomes remotePilotAddress. */
  | { type: 'istioctl-install-remote'; iop: string; readinessWaits: number; primary: string; timeoutMs: number }
  | { type: 'wait-gateway-address'; timeoutMs: number }
  // peers: the clusters whose east-west gateways this cluster probes, in one pod.
  | { type: 'wait-gateway-forwarding'; peers: string[]; timeoutMs: number }
  | { type: 'create-remote-secret'; server?: string }
  | { type: 'apply-remote-secrets'; sources: string[] }
  | { type: 'verify-remote-clusters'; peers: string[]; timeoutMs: number }
  | { type: 'verify-traffic'; versions: string[]; timeoutMs: number }
  /** kubectl delete --ignore-not-found: what is gone already is fine. */
  | { type: 'delete'; target: DeleteTarget }
  /** The same, where the resource type may not be served (a CRD that is gone, or was never installed): nothing to do. */
  | { type: 'delete-if-served'; target: DeleteTarget }
  /** Without `wait`, the API server finalizes the namespace in the background (--wait=false). */
  | { type: 'delete-namespace'; namespace: string; wait?: boolean }
  | { type: 'istioctl-uninstall' }
  /** The Gateway API CRDs (and policy) the action labelled, unless objects of theirs remain (kube/gateway-api.ts). */
  | { type: 'remove-own-gateway-api-crds' }
  /** kubectl apply --server-side as `fieldManager` (with --force-conflicts, as istioctl applies). */
  | { type: 'server-side-apply'; manifest: string; fieldManager: string }
  /** Nothing to do; `value` says why (what mode: plan and the summary show). */
  | { type: 'none'; value: string }
  /** Deletes `target` (if it is there) unless step `unless` succeeded in this run; `reason` says why it goes. */
  | { type: 'remove-unclaimed'; target: DeleteTarget; unless: string; reason: string }

export interface Step {
  id: string
  cluster: string
  kind: StepKind
  title: string
  needs: string[]
  /** Runs once its needs have finished, whether they succeeded or not (cleanup). */
  always?: boolean
  /**
   * Starts only once these steps have finished, whatever their outcome: an order, never a reason to skip. Work with
   * slack waits for its cluster's istioctl installs (the CPU-heavy part) instead of competing with them.
   */
  after?: string[]
  action: StepAction
}

/** A step's stable id, `<cluster>/<kind>`: the key of its result, and the end of its ▸ line (tools parse it). */
export const stepId = (cluster: string, kind: StepKind): string => `${cluster}/${kind}`
