// Simulated Istio releases: istioctl archives as release-builder publishes them (one file, plus a
// `.sha256` beside it), a download site that redirects like github.com does, and the GitHub releases
// API (pagination, drafts and prereleases mixed in, rate limiting, transient errors, ETags and conditional requests).
import http from 'node:http'
import { createHash } from 'node:crypto'
import { gzipSync, deflateRawSync, crc32 } from 'node:zlib'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { istioctlExecutable } from './istioctl/build.js'

/**
 * A fault of the release site; `count` limits how many requests it hits, else it lasts until cleared.
 * @typedef {object} ReleaseFault
 * @property {'checksum-mismatch' | 'truncate' | 'rate-limit' | 'status' | 'stall'} kind
 * @property {number} [count]
 * @property {string} [version] checksum-mismatch, truncate: only this version's downloads
 * @property {boolean} [abort] truncate: drop the connection instead of a short 200
 * @property {boolean} [anonymousOnly] rate-limit: only requests without a token
 * @property {number} [code] status: the answer's code (default 503)
 * @property {string} [pathIncludes] status, stall: only requests whose URL includes this
 * @property {'headers' | 'body'} [at] stall: before the status line, or (archives only) after half the body
 */

// A fixed mtime keeps archives byte-identical between builds (2025-01-01T00:00:00Z).
const MTIME = 1735689600

const PLATFORMS = ['linux-amd64', 'linux-arm64', 'linux-armv7', 'osx', 'osx-amd64', 'osx-arm64', 'win', 'win-amd64']
const isWindows = (/** @type {string} */ platform) => platform === 'win' || platform.startsWith('win-')

/** @param {string} version */
export function archiveName(version, platform = 'linux-amd64') {
  return `istioctl-${version}-${platform}.${isWindows(platform) ? 'zip' : 'tar.gz'}`
}

// --- archive writers ---

/**
 * One-file ustar archive (what `tar czf` of a single regular file gives), gzipped.
 * @param {string} fileName @param {Buffer} content
 */
export function tarGz(fileName, content, mode = 0o755) {
  const header = Buffer.alloc(512)
  /** @param {string} str @param {number} offset @param {number} len */
  const put = (str, offset, len) => header.write(str, offset, len, 'ascii')
  /** @param {number} n @param {number} len */
  const octal = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0'
  put(fileName, 0, 100)
  put(octal(mode, 8), 100, 8)
  put(octal(0, 8), 108, 8) // uid
  put(octal(0, 8), 116, 8) // gid
  put(octal(content.length, 12), 124, 12)
  put(octal(MTIME, 12), 136, 12)
  put('        ', 148, 8) // checksum placeholder: spaces while summing
  put('0', 156, 1) // regular file
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  put('root', 265, 32)
  put('root', 297, 32)
  let sum = 0
  for (const b of header) sum += b
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512)
  return gzipSync(Buffer.concat([header, content, pad, Buffer.alloc(1024)]), { level: 9 })
}

/**
 * One-file zip (deflate), with the file marked executable for unzip on Unix.
 * @param {string} fileName @param {Buffer} content
 */
export function zipOne(fileName, content) {
  const name = Buffer.from(fileName)
  const data = deflateRawSync(content)
  const crc = crc32(content)
  const dosTime = 0
  const dosDate = ((2025 - 1980) << 9) | (1 << 5) | 1
  // What the local and the central header share, from "version needed to extract" to the name's length (APPNOTE
  // 4.3.7 and 4.3.12): deflate, the DOS date, the CRC, both sizes.
  /** @param {Buffer} header @param {number} at */
  const shared = (header, at) => {
    header.writeUInt16LE(20, at)
    header.writeUInt16LE(0, at + 2)
    header.writeUInt16LE(8, at + 4)
    header.writeUInt16LE(dosTime, at + 6)
    header.writeUInt16LE(dosDate, at + 8)
    header.writeUInt32LE(crc, at + 10)
    header.writeUInt32LE(data.length, at + 14)
    header.writeUInt32LE(content.length, at + 18)
    header.writeUInt16LE(name.length, at + 22)
  }
  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  shared(local, 4)
  local.writeUInt16LE(0, 28)
  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix
  shared(central, 6)
  central.writeUInt32LE((0o100755 << 16) >>> 0, 38)
  central.writeUInt32LE(0, 42) // local header offset
  const cdOffset = local.length + name.length + data.length
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(central.length + name.length, 12)
  end.writeUInt32LE(cdOffset, 16)
  return Buffer.concat([local, name, data, central, name, end])
}

const sha256Hex = (/** @type {Buffer} */ buf) => createHash('sha256').update(buf).digest('hex')

/**
 * Build istioctl-<V>-<platform>.tar.gz (or .zip for Windows) holding the bundled simulator with the
 * version baked in, and `<archive>.sha256` in Istio's format: "<64 hex> <file name>\n".
 * @param {string} version
 * @param {{ outDir: string, platform?: string }} opts
 * @returns {Promise<{ archivePath: string, sha256Path: string, sha256: string }>}
 */
export async function packageIstioctl(version, { outDir, platform = 'linux-amd64' }) {
  if (!PLATFORMS.includes(platform)) throw new Error(`packageIstioctl: unknown platform ${platform}`)
  const exe = Buffer.from(await istioctlExecutable(version))
  const name = archiveName(version, platform)
  const archive = isWindows(platform) ? zipOne('istioctl.exe', exe) : tarGz('istioctl', exe)
  const sha256 = sha256Hex(archive)
  await mkdir(outDir, { recursive: true })
  const archivePath = join(outDir, name)
  const sha256Path = `${archivePath}.sha256`
  await writeFile(archivePath, archive)
  await writeFile(sha256Path, `${sha256} ${name}\n`)
  return { archivePath, sha256Path, sha256 }
}

// --- the server ---

/** @param {string} v */
function parseSemver(v) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined
}

/**
 * Releases in publication order (the order given): `versions` entries are "1.30.3" or
 * { version, published: false } (tag exists, assets not yet uploaded). `published`, when given, lists
 * the versions that have assets; the others are tags only. A draft and a prerelease of the next minor
 * are mixed in; a client must skip both.
 * @param {Array<string | { version: string, published?: boolean }>} versions
 * @param {string[]} [published]
 */
function buildReleases(versions, published) {
  const list = versions.map((v) =>
    typeof v === 'string' ? { version: v, published: true } : { published: true, ...v }
  )
  if (published) for (const r of list) r.published = r.published !== false && published.includes(r.version)
  const parsed = list.map((r) => parseSemver(r.version)).filter((p) => p !== undefined)
  const [major, minor] = parsed.length
    ? parsed.reduce((a, b) => (a[0] !== b[0] ? (a[0] > b[0] ? a : b) : a[1] >= b[1] ? a : b))
    : [1, 30]
  const next = `${major}.${minor + 1}.0`
  const base = Date.UTC(2026, 0, 1)
  const day = 86400000
  /** @type {Array<{ version: string, published: boolean, draft: boolean, prerelease: boolean, publishedAt: Date | null }>} */
  const releases = list.map((r, i) => ({
    ...r,
    draft: false,
    prerelease: false,
    publishedAt: new Date(base + i * day)
  }))
  releases.push({
    version: `${next}-beta.1`,
    published: true,
    draft: false,
    prerelease: true,
    publishedAt: new Date(base + (list.length + 1) * day)
  })
  releases.push({ version: next, published: false, draft: true, prerelease: false, publishedAt: null })
  return releases.map((r, i) => ({ ...r, id: 100000 + i }))
}

/** @param {string} version */
function assetNames(version) {
  return PLATFORMS.flatMap((p) => [archiveName(version, p), `${archiveName(version, p)}.sha256`])
}

/**
 * Faults (setFault / opts.faults; `count` limits how many requests one hits, else it lasts until cleared):
 *   { kind: 'checksum-mismatch', version? }   the .sha256 names a wrong digest
 *   { kind: 'truncate', version?, abort? }     half the archive: a short 200, or (abort) a dropped connection
 *   { kind: 'rate-limit', anonymousOnly? }    the API answers 403 "API rate limit exceeded", x-ratelimit-remaining: 0
 *   { kind: 'status', code, count?, pathIncludes? }  any request answers `code` (transient 5xx)
 *   { kind: 'stall', at, count?, pathIncludes? }  a stalled mirror or proxy: the connection is accepted and then
 *     nothing comes (at: 'headers'), or an archive's 200 sends half its body and then nothing (at: 'body'); the
 *     connection stays open until the client gives up (or the server closes)
 * @param {{ versions: (string | { version: string, published?: boolean })[], published?: string[], faults?: ReleaseFault[] }} opts
 */
export async function startReleaseServer({ versions, published, faults = [] }) {
  const releases = buildReleases(versions, published)
  const workDir = await mkdtemp(join(tmpdir(), 'sim-releases-'))
  /** @type {Map<string, Promise<{ archive: Buffer, sha256: string }>>} */
  const packaged = new Map() // `${version}/${platform}` → Promise<{ archive, sha256 }>
  /** @type {Array<{ method: string, path: string, url: string, authorization?: string, userAgent?: string }>} */
  const requests = []
  const state = { bytesServed: 0, bodyBytes: 0, notModified: 0, faults: [...faults] }
  let origin = ''

  /** @param {string} version @param {string} platform */
  const packageOnce = (version, platform) => {
    const key = `${version}/${platform}`
    if (!packaged.has(key)) {
      const p = packageIstioctl(version, { outDir: join(workDir, version), platform }).then((r) => ({
        archive: readFileSync(r.archivePath),
        sha256: r.sha256
      }))
      p.catch(() => packaged.delete(key))
      packaged.set(key, p)
    }
    return /** @type {Promise<{ archive: Buffer, sha256: string }>} */ (packaged.get(key))
  }

  /** @param {(typeof releases)[number] & { id: number }} r */
  const releaseJson = (r) => {
    const tag = r.version
    const apiBase = `${origin}/api/repos/istio/istio/releases/${r.id}`
    const at = r.publishedAt ? r.publishedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') : null
    return {
      url: apiBase,
      assets_url: `${apiBase}/assets`,
      upload_url: `${origin}/uploads/repos/istio/istio/releases/${r.id}/assets{?name,label}`,
      html_url: `${origin}/istio/istio/releases/tag/${tag}`,
      id: r.id,
      node_id: `RE_sim${r.id}`,
      tag_name: tag,
      target_commitish: 'master',
      name: `Istio ${tag}`,
      draft: r.draft,
      prerelease: r.prerelease,
      created_at: at || new Date(Date.UTC(2026, 5, 1)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      published_at: at,
      assets: r.published
        ? assetNames(tag).map((name, i) => ({
            url: `${apiBase}/assets/${r.id * 100 + i}`,
            id: r.id * 100 + i,
            name,
            label: '',
            content_type: name.endsWith('.sha256')
              ? 'text/plain'
              : name.endsWith('.zip')
                ? 'application/zip'
                : 'application/gzip',
            state: 'uploaded',
            download_count: 0,
            created_at: at,
            updated_at: at,
            browser_download_url: `${origin}/istio/istio/releases/download/${tag}/${name}`
          }))
        : [],
      tarball_url: `${origin}/api/repos/istio/istio/tarball/${tag}`,
      zipball_url: `${origin}/api/repos/istio/istio/zipball/${tag}`,
      body: `Istio ${tag}`
    }
  }

  /**
   * A fault that applies to this request, consuming one use of a counted fault.
   * @param {(f: ReleaseFault) => boolean | undefined} pred
   */
  const takeFault = (pred) => {
    const i = state.faults.findIndex(pred)
    if (i < 0) return undefined
    const f = state.faults[i]
    if (f.count !== undefined) {
      f.count -= 1
      if (f.count <= 0) state.faults.splice(i, 1)
    }
    return f
  }

  /**
   * @param {import('node:http').ServerResponse} res @param {number} code @param {unknown} body
   * @param {import('node:http').OutgoingHttpHeaders} [headers]
   */
  const send = (res, code, body, headers = {}) => {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    state.bodyBytes += buf.length
    res.writeHead(code, { 'Content-Length': buf.length, ...headers })
    res.end(buf)
  }

  /**
   * An API answer with its ETag, or 304 without a body when If-None-Match holds it. docs.github.com, "Best practices
   * for using the REST API", use conditional requests: "Most endpoints return an etag header … If the data has not
   * changed, you will receive a 304 Not Modified response". GitHub's JSON answers carry weak ETags (`W/"…"`), and
   * If-None-Match compares weakly (RFC 9110 13.1.2). The ETag differs per token (github/docs#34689: "When a different
   * access token is used a different etag is returned"), so it hashes the Authorization header with the body.
   * @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
   * @param {unknown} body @param {import('node:http').OutgoingHttpHeaders} headers
   */
  const sendConditional = (req, res, body, headers) => {
    const buf = Buffer.from(JSON.stringify(body))
    const etag = `W/"${createHash('sha256')
      .update(`${req.headers.authorization ?? ''}\n`)
      .update(buf)
      .digest('hex')
      .slice(0, 32)}"`
    const opaque = (/** @type {string} */ t) => t.trim().replace(/^W\//, '')
    const wanted = String(req.headers['if-none-match'] ?? '')
      .split(',')
      .map(opaque)
      .filter(Boolean)
    if (wanted.includes('*') || wanted.includes(opaque(etag))) {
      state.notModified += 1
      const { 'Content-Type': _type, ...rest } = /** @type {Record<string, unknown>} */ (headers)
      res.writeHead(304, { ...rest, ETag: etag })
      return void res.end()
    }
    send(res, 200, buf, { ...headers, ETag: etag })
  }
  const notFoundJson = (/** @type {import('node:http').ServerResponse} */ res) =>
    send(
      res,
      404,
      { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' },
      { 'Content-Type': 'application/json; charset=utf-8' }
    )

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res @param {URL} url */
  async function api(req, res, url) {
    const rateLimited = takeFault((f) => f.kind === 'rate-limit' && !(f.anonymousOnly && req.headers.authorization))
    if (rateLimited) {
      return send(
        res,
        403,
        {
          message:
            "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
          documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting'
        },
        {
          'Content-Type': 'application/json; charset=utf-8',
          'x-ratelimit-limit': '60',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '60',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
          'x-ratelimit-resource': 'core'
        }
      )
    }
    const json = {
      'Content-Type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999'
    }
    const path = url.pathname.replace(/^\/api/, '')
    // Newest first, as GitHub lists them (drafts on top).
    const ordered = [...releases].sort(
      (a, b) => (b.publishedAt?.getTime() ?? Infinity) - (a.publishedAt?.getTime() ?? Infinity)
    )
    if (path === '/repos/istio/istio/releases') {
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page')) || 30))
      const page = Math.max(1, Number(url.searchParams.get('page')) || 1)
      const last = Math.max(1, Math.ceil(ordered.length / perPage))
      const link = (/** @type {number} */ p) =>
        `<${origin}/api/repos/istio/istio/releases?per_page=${perPage}&page=${p}>`
      const links = []
      if (page > 1) links.push(`${link(page - 1)}; rel="prev"`)
      if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`)
      if (page > 1) links.push(`${link(1)}; rel="first"`)
      const items = ordered.slice((page - 1) * perPage, page * perPage).map(releaseJson)
      return sendConditional(req, res, items, { ...json, ...(links.length ? { Link: links.join(', ') } : {}) })
    }
    if (path === '/repos/istio/istio/releases/latest') {
      // GitHub's "latest" is the most recently published full release, not the highest version.
      const latest = ordered.find((r) => !r.draft && !r.prerelease)
      return latest ? sendConditional(req, res, releaseJson(latest), json) : notFoundJson(res)
    }
    const tag = /^\/repos\/istio\/istio\/releases\/tags\/([^/]+)$/.exec(path)
    if (tag) {
      const r = releases.find((x) => x.version === decodeURIComponent(tag[1]) && !x.draft)
      return r ? sendConditional(req, res, releaseJson(r), json) : notFoundJson(res)
    }
    return notFoundJson(res)
  }

  /** @param {import('node:http').IncomingMessage} _req @param {import('node:http').ServerResponse} res @param {URL} url */
  async function download(_req, res, url) {
    // github.com answers release downloads with a redirect to its object store.
    const m = /^\/istio\/istio\/releases\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    if (m) {
      const [, version, file] = m
      const r = releases.find((x) => x.version === version && !x.draft)
      if (!r || !r.published || !assetNames(version).includes(file))
        return send(res, 404, 'Not Found', { 'Content-Type': 'text/plain; charset=utf-8' })
      res.writeHead(302, { Location: `${origin}/objects/${version}/${file}`, 'Content-Length': 0 })
      return void res.end()
    }
    const o = /^\/objects\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    if (!o) return send(res, 404, 'Not Found', { 'Content-Type': 'text/plain; charset=utf-8' })
    const [, version, file] = o
    const isSha = file.endsWith('.sha256')
    const archive = isSha ? file.slice(0, -'.sha256'.length) : file
    const platform = PLATFORMS.find((p) => archiveName(version, p) === archive)
    if (!platform) return send(res, 404, 'Not Found', { 'Content-Type': 'text/plain; charset=utf-8' })
    const pkg = await packageOnce(version, platform)
    if (isSha) {
      const wrong = takeFault((f) => f.kind === 'checksum-mismatch' && (!f.version || f.version === version))
      const sha = wrong ? sha256Hex(Buffer.from(`not ${archive}`)) : pkg.sha256
      return send(res, 200, `${sha} ${archive}\n`, { 'Content-Type': 'application/octet-stream' })
    }
    const stall = takeFault(
      (f) => f.kind === 'stall' && f.at === 'body' && (!f.pathIncludes || url.pathname.includes(f.pathIncludes))
    )
    if (stall) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': pkg.archive.length })
      const half = pkg.archive.subarray(0, Math.floor(pkg.archive.length / 2))
      state.bodyBytes += half.length
      res.write(half)
      return
    }
    const cut = takeFault((f) => f.kind === 'truncate' && (!f.version || f.version === version))
    const body = cut ? pkg.archive.subarray(0, Math.floor(pkg.archive.length / 2)) : pkg.archive
    state.bytesServed += body.length
    if (cut?.abort) {
      state.bodyBytes += body.length
      // The connection drops mid-body: the full length is announced, half arrives.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': pkg.archive.length })
      res.write(body, () => res.destroy())
      return
    }
    return send(res, 200, body, { 'Content-Type': 'application/octet-stream' })
  }

  const server = http.createServer((req, res) => {
    const rawUrl = /** @type {string} */ (req.url) // set on every request a server parsed
    const url = new URL(rawUrl, 'http://sim.invalid')
    // Kept for assertions (e.g. that the action sent its github-token); never printed.
    requests.push({
      method: /** @type {string} */ (req.method),
      path: url.pathname,
      url: rawUrl,
      authorization: req.headers.authorization,
      userAgent: req.headers['user-agent']
    })
    // Nothing is answered: the request stays open until the client closes it or the server stops.
    if (takeFault((f) => f.kind === 'stall' && f.at !== 'body' && (!f.pathIncludes || rawUrl.includes(f.pathIncludes))))
      return
    const transient = takeFault((f) => f.kind === 'status' && (!f.pathIncludes || rawUrl.includes(f.pathIncludes)))
    if (transient) {
      return send(
        res,
        transient.code || 503,
        { message: 'Service Unavailable (simulated)' },
        { 'Content-Type': 'application/json; charset=utf-8' }
      )
    }
    const handler = url.pathname.startsWith('/api/') ? api : download
    handler(req, res, url).catch((err) => {
      if (!res.headersSent) send(res, 500, { message: String(/** @type {Error | undefined} */ (err)?.message || err) })
      else res.destroy()
    })
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(undefined))
  })
  origin = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`

  return {
    downloadBaseUrl: `${origin}/istio/istio/releases/download`,
    apiUrl: `${origin}/api`,
    requests,
    /** Archive bytes served (what a download of istioctl costs). */
    get bytesServed() {
      return state.bytesServed
    },
    /** Every response body byte: API answers, checksums, archives, error pages. */
    get bodyBytes() {
      return state.bodyBytes
    },
    /** How many conditional API requests were answered 304 Not Modified. */
    get notModified() {
      return state.notModified
    },
    /**
     * Add a fault; `setFault(null)` clears them all.
     * @param {ReleaseFault | null | undefined} f
     */
    setFault(f) {
      if (f === null || f === undefined) state.faults.length = 0
      else state.faults.push({ ...f })
    },
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve(undefined))
        server.closeAllConnections()
      })
      await rm(workDir, { recursive: true, force: true })
    }
  }
}
