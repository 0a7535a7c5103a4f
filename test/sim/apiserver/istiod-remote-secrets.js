// What a running istiod makes of an UPDATED remote secret (istiod.js models what it loads from cacerts), on the releases where that goes wrong.
//
// istiod's secret controller (pkg/kube/multicluster/secretcontroller.go, `addRemoteConfig` with action Update,
// 1.30.3) swaps the remote cluster's registry in place when a remote secret changes. On several releases the swap
// leaves the old view behind until istiod restarts (the release notes in istio/istio master, releasenotes/notes/):
// - #60612: the updated secret is not read (the new registry deadlocks waiting to sync); fix 5b3d8e36 on
//   release-1.30, first tagged 1.30.3;
// - #61043: the remote cluster's endpoint shards are wiped for good after the update (reported on 1.30.1 and
//   1.30.3); fix da9c9901 on release-1.30 after the 1.30.3 tag (so 1.30.4), 6fa1477d in 1.31.0-alpha.2;
// - #60920: the remote network's gateway is dropped; fix 1ffd02ed on release-1.30 after 1.30.3, dbd9c01b in 1.31.0.
// release-1.28 and release-1.29 carry none of these fixes (#58047 reports the same on 1.27).
//
// MODELLED: when a Secret labelled istio/multiCluster=true in istio-system changes its data, every istiod Pod
// running then whose release (its Deployment's operator.istio.io/version label) is 1.30.3 or older is marked with
// the cluster IDs of that secret (annotation `sim.istio.io/stale-remote-clusters`). traffic.js treats a cluster
// marked so on the client's istiod as unknown: its endpoints are gone, requests to it fail. Pods created later (a
// `kubectl rollout restart`, a new template) start clean, as a restarted istiod reads every secret afresh.
// Creating or deleting a remote secret is unaffected; `istioctl remote-clusters` still says synced (the bugs lose
// endpoints, not the watch), which is why only traffic shows it.
// NOT MODELLED: the differences between the three bugs (all three end in "traffic to that cluster fails").

export const STALE_ANNOTATION = 'sim.istio.io/stale-remote-clusters'
const ISTIO_NS = 'istio-system'

/**
 * True for the releases above: everything up to 1.30.3 (1.x), nothing from 1.30.4 and 1.31.0 on.
 * @param {string | undefined} version
 */
export function keepsStaleRemoteView(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(String(version || ''))
  if (!m) return false
  const [major, minor, patch] = m.slice(1).map(Number)
  return major === 1 && (minor < 30 || (minor === 30 && patch <= 3))
}

const decoded = (/** @type {import('./index.js').KubeObject} */ s) => JSON.stringify(s?.data || {})

/**
 * A store 'change' handler (see controllers.js startControllers).
 * @param {{ store: import('./store.js').Store }} ctx
 * @returns {(e: import('./index.js').ChangeEvent) => void}
 */
export function remoteSecretUpdates({ store }) {
  return (e) => {
    const s = e.object
    if (e.type !== 'MODIFIED' || s.kind !== 'Secret' || s.metadata.namespace !== ISTIO_NS) return
    if (s.metadata.labels?.['istio/multiCluster'] !== 'true' || decoded(s) === decoded(e.oldObject)) return
    const ids = Object.keys(s.data || {})
    const affected = new Map(
      store
        .list('apps/v1', 'Deployment', ISTIO_NS)
        .filter(
          (d) =>
            d.metadata.labels?.app === 'istiod' &&
            keepsStaleRemoteView(d.metadata.labels?.['operator.istio.io/version'])
        )
        .map((d) => [d.metadata.uid, d])
    )
    for (const pod of store.list('v1', 'Pod', ISTIO_NS)) {
      if (
        !(pod.metadata.ownerReferences || []).some((/** @type {any} */ o) => affected.has(o.uid)) ||
        pod.status?.phase !== 'Running'
      )
        continue
      const before = (pod.metadata.annotations?.[STALE_ANNOTATION] || '').split(',').filter(Boolean)
      const after = [...new Set([...before, ...ids])].sort()
      if (after.join(',') === before.join(',')) continue
      store.put({
        ...pod,
        metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, [STALE_ANNOTATION]: after.join(',') } }
      })
    }
  }
}

/**
 * Cluster IDs whose endpoints the running pods of this istiod Deployment lost (see above).
 * @param {import('./index.js').Store} store
 * @param {import('./index.js').KubeObject} istiod
 * @returns {Set<string>}
 */
export function staleRemoteClusters(store, istiod) {
  /** @type {Set<string>} */
  const ids = new Set()
  for (const pod of store.list('v1', 'Pod', ISTIO_NS)) {
    if (!(pod.metadata.ownerReferences || []).some((/** @type {any} */ o) => o.uid === istiod.metadata.uid)) continue
    for (const id of (pod.metadata.annotations?.[STALE_ANNOTATION] || '').split(',').filter(Boolean)) ids.add(id)
  }
  return ids
}
