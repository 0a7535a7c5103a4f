// HTTP for the release downloads and the releases API, bounded when no data arrives. @actions/tool-cache 4.0.0's
// downloadTool builds its own HttpClient without a socketTimeout (lib/tool-cache.js downloadToolAttempt), so it waits
// the client's default 3 minutes for the headers and, once they came, for ever for a body that stopped: a stalled
// mirror or proxy would hang the step until the job's limit. Here @actions/http-client 4.0.1 still makes the request
// (its proxy support: https_proxy / http_proxy / no_proxy, lib/proxy.js; its redirects), with `socketTimeout` bounding
// the wait for the headers (req.setTimeout, lib/index.js requestRawWithCallback), and a timer of ours the body.
import * as fs from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { Transform, Writable } from 'node:stream'
import { HttpClient, HttpClientResponse } from '@actions/http-client'
import { parseDuration } from '../duration.js'

/** How long a request may go without a byte: the headers, or the next chunk of the body. */
export const DEFAULT_STALL_MS = 60_000

/** ISTIO_MULTICLUSTER_DOWNLOAD_STALL_TIMEOUT (a duration such as `2s`) overrides DEFAULT_STALL_MS; tests set it. */
export function stallTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const wanted = parseDuration(env.ISTIO_MULTICLUSTER_DOWNLOAD_STALL_TIMEOUT ?? '')
  return wanted && wanted > 0 ? wanted : DEFAULT_STALL_MS
}

/** A request that went `bound.ms` without data. */
export class StallError extends Error {}

/** An answer with a status that is not 200 (the body was read, so the connection is free). */
export class StatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`)
  }
}

/** `url` as an error may show it: without user info or query, where a mirror's credentials would be. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) u.username = u.password = ''
    u.search = u.search ? '?…' : ''
    return u.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

/** How long a request may go without data, and what a user does about a stall (the proxy, or the input that avoids it). */
export interface Bound {
  ms: number
  fix: string
}

/** The fix for a stalled release download. */
export const DOWNLOAD_FIX = 'on a runner without direct access, point "download-base-url" at a mirror'

const stallHint = (b: Bound) =>
  `no data arrived for ${Math.round(b.ms / 1000)} s. If the runner reaches the Internet through a proxy, set https_proxy (and no_proxy); ${b.fix}`

export function httpClient(bound: Bound, retries = 0): HttpClient {
  return new HttpClient('istio-multicluster-action', [], {
    allowRetries: retries > 0,
    maxRetries: retries,
    socketTimeout: bound.ms
  })
}

/** GET `url`; a wait for the headers longer than `bound.ms` is a StallError naming the URL. */
export async function getBounded(
  http: HttpClient,
  url: string,
  headers: Record<string, string>,
  bound: Bound
): Promise<HttpClientResponse> {
  try {
    return await http.get(url, headers)
  } catch (e) {
    // http-client's socket timeout rejects with `Request timeout: <path>` (lib/index.js requestRawWithCallback).
    if (e instanceof Error && e.message.startsWith('Request timeout:'))
      throw new StallError(`${redactUrl(url)} sent no answer: ${stallHint(bound)}`)
    throw e
  }
}

/** The body, or a StallError once `bound.ms` pass without a chunk (the connection is destroyed). */
export async function readBody(res: HttpClientResponse, url: string, bound: Bound): Promise<Buffer> {
  const chunks: Buffer[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk)
      done()
    }
  })
  await pipe(res, url, bound, sink)
  return Buffer.concat(chunks)
}

/** Streams a 200's body to `dest`; another status is a StatusError, a stall a StallError. `dest` goes on failure. */
export async function downloadToFile(http: HttpClient, url: string, dest: string, bound: Bound): Promise<void> {
  const res = await getBounded(http, url, {}, bound)
  const status = res.message.statusCode ?? 0
  if (status !== 200) {
    await readBody(res, url, bound).catch(() => undefined)
    throw new StatusError(status)
  }
  const out = fs.createWriteStream(dest)
  try {
    await pipe(res, url, bound, out)
  } catch (e) {
    fs.rmSync(dest, { force: true })
    throw e
  }
}

async function pipe(res: HttpClientResponse, url: string, bound: Bound, out: NodeJS.WritableStream): Promise<void> {
  const msg = res.message
  // The body's bound is this timer: http-client's socket timeout would only half-close the socket (socket.end()), and
  // the server's answer to that would end the body as "aborted", not as a stall.
  msg.socket?.setTimeout(0)
  let timer: NodeJS.Timeout | undefined
  let stalled: StallError | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      stalled = new StallError(`${redactUrl(url)} stopped sending mid-body: ${stallHint(bound)}`)
      msg.destroy(stalled)
    }, bound.ms)
  }
  const watch = new Transform({
    transform(chunk: Buffer, _enc, done) {
      arm()
      done(null, chunk)
    }
  })
  arm()
  try {
    await pipeline(msg, watch, out)
  } catch (e) {
    // The destroyed message may report its own "aborted" first.
    throw stalled ?? e
  } finally {
    clearTimeout(timer)
  }
}

/**
 * tool-cache's downloadTool policy (lib/tool-cache.js, RetryHelper): three attempts, none after an HTTP status below
 * 500 other than 408 and 429; a stall or a dropped connection is retried. The pause: 10 s, or the stall bound when
 * that is shorter (tests).
 */
export const DOWNLOAD_ATTEMPTS = 3

export async function withDownloadRetries<T>(
  bound: Bound,
  attempt: () => Promise<T>,
  log: (line: string) => void
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt()
    } catch (e) {
      const permanent = e instanceof StatusError && e.status < 500 && e.status !== 408 && e.status !== 429
      if (permanent || i >= DOWNLOAD_ATTEMPTS) throw e
      const pauseMs = Math.min(10_000, bound.ms)
      log(`${e instanceof Error ? e.message : String(e)}; trying again in ${Math.round(pauseMs / 1000)} s`)
      await new Promise((r) => setTimeout(r, pauseMs))
    }
  }
}
