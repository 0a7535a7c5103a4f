// Small HTTP helpers shared by the request handler and the REST layer.
import { ApiError, errors } from './status.js'

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} code
 * @param {unknown} body
 * @param {import('node:http').OutgoingHttpHeaders} [headers]
 */
export function sendJson(res, code, body, headers = {}) {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

/** @param {import('node:http').ServerResponse} res @param {unknown} err */
export function sendError(res, err) {
  const apiErr =
    err instanceof ApiError
      ? err
      : new ApiError(
          500,
          'InternalError',
          `Internal error occurred: ${/** @type {Error | undefined} */ (err)?.message || err}`
        )
  sendJson(res, apiErr.code, apiErr.toStatus())
}

const MAX_BODY = 16 * 1024 * 1024

/**
 * The request body as a Buffer.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<Buffer>}
 */
export function readRaw(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = []
    let size = 0
    req.on('data', (/** @type {Buffer} */ c) => {
      size += c.length
      if (size > MAX_BODY) reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large'))
      else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * The body parsed as JSON, or undefined when empty. Protobuf (what `kubectl create <kind>` sends)
 * is refused with 415: the simulator only speaks JSON.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<{ type: string, body: any }>}
 */
export async function readJsonBody(req) {
  const raw = await readRaw(req)
  const type = String(req.headers['content-type'] || 'application/json')
    .split(';')[0]
    .trim()
  if (type.includes('protobuf') || raw.subarray(0, 4).toString('latin1') === 'k8s\0') {
    throw errors.unsupportedMediaType(type.includes('protobuf') ? type : 'application/vnd.kubernetes.protobuf')
  }
  if (!raw.length) return { type, body: undefined }
  try {
    return { type, body: JSON.parse(raw.toString('utf8')) }
  } catch (e) {
    throw errors.badRequest(`the body of the request was not valid JSON: ${/** @type {Error} */ (e).message}`)
  }
}
