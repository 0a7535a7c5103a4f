// metav1.Status bodies, worded like the real API server's so kubectl prints the familiar errors.

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

export function statusBody(code, reason, message, details) {
  const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason }
  if (details) body.details = details
  body.code = code
  return body
}

// "secrets" for the core group, "deployments.apps" otherwise: how the server names a resource in messages.
export function qualifiedResource(r) {
  return r.group ? `${r.plural}.${r.group}` : r.plural
}

function details(r, name) {
  const d = { name, kind: r.plural }
  if (r.group) d.group = r.group
  return d
}

export const errors = {
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (user, verb, r, namespace, name) =>
    new ApiError(
      403,
      'Forbidden',
      `${qualifiedResource(r)}${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${r.plural}" in API group "${r.group}" ` +
        (namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'),
      { ...(name ? { name } : {}), kind: r.plural, ...(r.group ? { group: r.group } : {}) }
    ),
  notFound: (r, name) => new ApiError(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, details(r, name)),
  namespaceNotFound: (ns) => new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }),
  noResource: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (r, name) => new ApiError(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, details(r, name)),
  conflict: (r, name) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      details(r, name)
    ),
  badRequest: (message) => new ApiError(400, 'BadRequest', message),
  // kubectl prints "The <Kind> "<name>" is invalid: <field>: <message>" from details.causes.
  invalid: (r, name, field, message) =>
    new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${field ? `${field}: ` : ''}${message}`, {
      ...details(r, name),
      kind: r.kind,
      causes: [{ reason: 'FieldValueInvalid', message, ...(field ? { field } : {}) }]
    }),
  methodNotAllowed: () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  unsupportedMediaType: (type) =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      type.includes('protobuf')
        ? `the simulated API server does not decode protobuf (${type}); send JSON (kubectl apply/get/label/delete/wait do)`
        : `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got ${type})`
    )
}
