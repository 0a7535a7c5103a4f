// A local stand-in for the two services a runner gives a step to upload artifacts, so the action's upload can run
// end to end: the results service's Twirp API (`github.actions.results.api.v1.ArtifactService`: CreateArtifact →
// a signed upload URL, FinalizeArtifact → the artifact's id; JSON over POST with the proto field names, as
// @actions/artifact's generated client sends them (useProtoFieldName) and Twirp answers) and Azure Blob Storage's block upload behind that URL (Put Block
// `?comp=block&blockid=…`, then Put Block List `?comp=blocklist` with `<BlockList><Latest>…</Latest></BlockList>`, as
// @azure/storage-blob's BlockBlobClient.uploadStream sends them). It keeps what was uploaded; it checks the bearer
// token and the backend ids taken from its `scp` claim. Not modelled: retention, download, listing, errors.
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'

const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService/'

/** An unsigned JWT with the scope claim the client reads the run's and the job's backend ids from. */
export function runtimeToken(runId = randomUUID(), jobId = randomUUID()) {
  const part = (/** @type {object} */ o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return {
    token: `${part({ alg: 'none', typ: 'JWT' })}.${part({ scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}` })}.sig`,
    runId,
    jobId
  }
}

export async function startArtifactService() {
  const { token, runId, jobId } = runtimeToken()
  /** @type {Map<string, { size: number, hash?: string, zip: Buffer, id: number }>} */
  const artifacts = new Map()
  /** @type {Map<string, Map<string, Buffer>>} blob path → block id → bytes */
  const blocks = new Map()
  /** @type {Map<string, Buffer>} */
  const blobs = new Map()
  /** @type {Array<{ method: string, path: string }>} */
  const requests = []
  const server = createServer((req, res) => {
    const chunks = /** @type {Buffer[]} */ ([])
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url || '/', 'http://localhost')
      const body = Buffer.concat(chunks)
      requests.push({ method: req.method || '', path: url.pathname })
      const json = (/** @type {number} */ code, /** @type {object} */ o) => {
        res.writeHead(code, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(o))
      }
      if (req.method === 'POST' && url.pathname.startsWith(SERVICE)) {
        if (req.headers.authorization !== `Bearer ${token}`)
          return json(401, { code: 'unauthenticated', msg: 'bad token' })
        const msg = JSON.parse(body.toString() || '{}')
        if (msg.workflow_run_backend_id !== runId || msg.workflow_job_run_backend_id !== jobId)
          return json(400, { code: 'invalid_argument', msg: 'unknown backend ids' })
        const method = url.pathname.slice(SERVICE.length)
        if (method === 'CreateArtifact') {
          if (artifacts.has(msg.name)) return json(409, { code: 'already_exists', msg: `artifact ${msg.name} exists` })
          return json(200, {
            ok: true,
            signed_upload_url: `http://127.0.0.1:${port}/blob/${encodeURIComponent(msg.name)}.zip?sig=fake`
          })
        }
        if (method === 'FinalizeArtifact') {
          const zip = blobs.get(`/blob/${encodeURIComponent(msg.name)}.zip`)
          if (!zip) return json(404, { code: 'not_found', msg: 'nothing uploaded' })
          const id = artifacts.size + 1
          artifacts.set(msg.name, { size: Number(msg.size), hash: msg.hash, zip, id })
          return json(200, { ok: true, artifact_id: String(id) })
        }
        return json(404, { code: 'bad_route', msg: method })
      }
      if (req.method === 'PUT' && url.pathname.startsWith('/blob/')) {
        const comp = url.searchParams.get('comp')
        const mine = blocks.get(url.pathname) ?? new Map()
        blocks.set(url.pathname, mine)
        if (comp === 'block') mine.set(url.searchParams.get('blockid') || '', body)
        else if (comp === 'blocklist') {
          const ids = [...body.toString().matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1])
          blobs.set(url.pathname, Buffer.concat(ids.map((id) => mine.get(id) ?? Buffer.alloc(0))))
        } else blobs.set(url.pathname, body)
        res.writeHead(201, { 'x-ms-request-id': randomUUID(), 'x-ms-version': '2024-11-04', ETag: `"${randomUUID()}"` })
        return res.end()
      }
      res.writeHead(404)
      res.end()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port
  return {
    /** What a runner sets for a step. */
    env: { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/` },
    artifacts,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined)))
  }
}
