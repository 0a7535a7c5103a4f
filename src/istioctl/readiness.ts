// istioctl install's readiness wait, as the action bounds and explains it.

/** Time for what istioctl does besides waiting: checks, rendering, applying each object, pruning. */
export const APPLY_MARGIN_MS = 2 * 60_000

/**
 * The process limit of one `istioctl install`: it waits up to --readiness-timeout per component, `waits` of them one
 * after another (readinessWaits), plus a margin, so istioctl gives up (and says why) before the action kills it.
 */
export function installLimitMs(readinessTimeoutMs: number, waits: number): number {
  return Math.max(1, waits) * readinessTimeoutMs + APPLY_MARGIN_MS
}

/** Go's time.Duration.String() for whole milliseconds ("2s", "5m0s", "1h30m0s", "1.5s"), as istioctl prints it back. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = `${Number(((ms % 60_000) / 1000).toFixed(3))}s`
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s
}

/** istioctl's readiness failure ("resources not ready after 5m0s: …"), as opposed to any other error. */
export function isReadinessFailure(stderr: string): boolean {
  return /resources not ready after \S+/.test(stderr)
}

interface PodList {
  items?: {
    metadata: { name: string }
    status?: {
      conditions?: { type: string; status: string; message?: string }[]
      initContainerStatuses?: ContainerStatus[]
      containerStatuses?: ContainerStatus[]
    }
  }[]
}

interface ContainerStatus {
  name: string
  image?: string
  state?: { waiting?: { reason?: string; message?: string } }
}

/**
 * One line per pod that is not ready, from `kubectl get pods -o json`: each waiting container's reason, image and
 * message (`istiod-abc: ImagePullBackOff (image …/pilot:1.30.3): Back-off pulling image …`), else its Ready condition.
 */
export function unreadyPods(podsJson: string): string[] {
  const list = JSON.parse(podsJson) as PodList
  const lines: string[] = []
  for (const pod of list.items ?? []) {
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')
    if (ready?.status === 'True') continue
    const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].filter(
      (c) => c.state?.waiting
    )
    if (waiting.length === 0) {
      lines.push(`${pod.metadata.name}: not ready${ready?.message ? `: ${ready.message}` : ''}`)
      continue
    }
    for (const c of waiting) {
      const w = c.state!.waiting!
      lines.push(
        `${pod.metadata.name}: ${w.reason ?? 'Waiting'} (image ${c.image ?? '?'})${w.message ? `: ${w.message}` : ''}`
      )
    }
  }
  return lines
}
