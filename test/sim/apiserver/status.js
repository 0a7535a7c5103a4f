// metav1.Status bodies, worded like the real API server's so kubectl prints the familiar errors.

/** @typedef {Pick<import('./resources.js').Resource, 'group' | 'plural' | 'kind'>} Named how messages name a resource */

export class ApiError extends Error {
  /** @param {number} code @param {string} reason @param {string} message @param {object} [details] */
  constructor(code, reason, message, details) {
    super(message)
    this.code = code
    this.reason = reason
    this.details = details
  }

  toStatus() {
    return statusBody(this.code, this.reason, this.message, this.details)
  }
}

/** @param {number} code @param {string} reason @param {string} message @param {object} [details] */
export function statusBody(code, reason, message, details) {
  /** @type {{ kind: string, apiVersion: string, metadata: object, status: string, message: string, reason: string, details?: object, code?: number }} */
  const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason }
  if (details) body.details = details
  body.code = code
  return body
}

// "secrets" for the core group, "deployments.apps" otherwise: how the server names a resource in messages.
/** @param {Named} r */
export function qualifiedResource(r) {
  return r.group ? `${r.plural}.${r.group}` : r.plural
}

/** @param {Named} r @param {string} name */
function details(r, name) {
  /** @type {{ name: string, kind: string, group?: string }} */
  const d = { name, kind: r.plural }
  if (r.group) d.group = r.group
  return d
}

export const errors = {
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  /** @param {string} user @param {string} verb @param {Named} r @param {string} [namespace] @param {string} [name] */
  forbidden: (user, verb, r, namespace, name) =>
    new ApiError(
      403,
      'Forbidden',
      `${qualifiedResource(r)}${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${r.plural}" in API group "${r.group}" ` +
        (namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'),
      { ...(name ? { name } : {}), kind: r.plural, ...(r.group ? { group: r.group } : {}) }
    ),
  /** @param {Named} r @param {string} name */
  notFound: (r, name) => new ApiError(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, details(r, name)),
  /** @param {string} ns */
  namespaceNotFound: (ns) =>
    new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }),
  noResource: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  /** @param {Named} r @param {string} name */
  alreadyExists: (r, name) =>
    new ApiError(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, details(r, name)),
  /** @param {Named} r @param {string} name */
  conflict: (r, name) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      details(r, name)
    ),
  /** @param {string} message */
  badRequest: (message) => new ApiError(400, 'BadRequest', message),
  // kubectl prints "The <Kind> "<name>" is invalid: <field>: <message>" from details.causes.
  /** @param {Named} r @param {string} name @param {string | undefined} field @param {string} message */
  invalid: (r, name, field, message) =>
    new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${field ? `${field}: ` : ''}${message}`, {
      ...details(r, name),
      kind: r.kind,
      causes: [{ reason: 'FieldValueInvalid', message, ...(field ? { field } : {}) }]
    }),
  methodNotAllowed: () =>
    new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  /** @param {string} type */
  unsupportedMediaType: (type) =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      type.includes('protobuf')
        ? `the simulated API server does not decode protobuf (${type}); send JSON (kubectl apply/get/label/delete/wait do)`
        : `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got ${type})`
    )
}
