// ?watch=true: a chunked stream of {"type","object"} JSON lines, fed by the store's change events.
import { toTable } from './table.js'
import { statusBody } from './status.js'

/**
 * @param {import('./context.js').ServerContext} ctx
 * @param {import('node:http').ServerResponse} res
 * @param {object} w
 * @param {import('./resources.js').Resource} w.resource
 * @param {string} w.apiVersion the version the client asked for (objects are shown in it)
 * @param {string} [w.namespace]
 * @param {(o: any) => boolean} w.selects label + field selector predicate
 * @param {string} [w.resourceVersion] '' or '0': start with ADDED for what exists; else resume after it
 * @param {number} [w.timeoutSeconds]
 * @param {boolean} [w.table] wrap objects in meta.k8s.io Tables (kubectl get -w without -o)
 * @param {string} [w.includeObject]
 * @param {boolean} [w.sendInitialEvents] WatchList: initial ADDED events then a BOOKMARK marking their end
 */
export function serveWatch(ctx, res, w) {
  const { store } = ctx
  // Headers go out at once: kubectl blocks until it sees them.
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked'
  })
  res.flushHeaders()

  let sentColumns = false
  /** @param {string} type @param {import('./index.js').KubeObject} obj */
  const write = (type, obj) => {
    let object = { ...obj, apiVersion: w.apiVersion }
    if (w.table && type !== 'ERROR' && type !== 'BOOKMARK') {
      object = toTable(w.resource, [object], { includeObject: w.includeObject, withColumns: !sentColumns })
      sentColumns = true
    }
    res.write(JSON.stringify({ type, object }) + '\n')
  }

  /** @param {import('./index.js').KubeObject} o @returns {boolean} */
  const ofResource = (o) =>
    o &&
    o.kind === w.resource.kind &&
    groupOf(o.apiVersion) === w.resource.group &&
    (!w.namespace || o.metadata.namespace === w.namespace)
  /** @param {import('./index.js').KubeObject} o */
  const matches = (o) => ofResource(o) && w.selects(o)

  // With selectors, an object entering or leaving the selection is ADDED or DELETED for this watcher.
  /** @param {import('./index.js').ChangeEvent} e */
  const deliver = (e) => {
    if (!ofResource(e.object)) return
    const was = e.oldObject !== undefined && matches(e.oldObject)
    const is = e.type !== 'DELETED' && matches(e.object)
    if (is && !was) write('ADDED', e.object)
    else if (is && was) write('MODIFIED', e.object)
    else if (was) write('DELETED', e.object)
  }

  const rv = w.resourceVersion
  if (!rv || rv === '0' || w.sendInitialEvents) {
    for (const o of store.list(w.apiVersion, w.resource.kind, w.namespace)) if (w.selects(o)) write('ADDED', o)
    if (w.sendInitialEvents) {
      write('BOOKMARK', {
        kind: w.resource.kind,
        metadata: { resourceVersion: store.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } }
      })
    }
  } else {
    const missed = store.eventsSince(rv)
    if (!missed) {
      write('ERROR', statusBody(410, 'Expired', `too old resource version: ${rv} (${store.resourceVersion})`))
      res.end()
      return
    }
    missed.forEach(deliver)
  }

  // Nothing awaits between the replay above and subscribing: no event can slip through.
  store.on('change', deliver)
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  const end = () => {
    store.off('change', deliver)
    clearTimeout(timer)
    ctx.watches.delete(end)
    if (!res.writableEnded) res.end()
  }
  if (w.timeoutSeconds && w.timeoutSeconds > 0) timer = setTimeout(end, w.timeoutSeconds * 1000)
  ctx.watches.add(end)
  res.on('close', end)
}

function groupOf(apiVersion = '') {
  const i = apiVersion.indexOf('/')
  return i < 0 ? '' : apiVersion.slice(0, i)
}
