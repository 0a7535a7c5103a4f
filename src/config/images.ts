import { InputError } from '../errors.js'
import { ConfigSource } from './inputs.js'

export interface VerifyImages {
  helloworldV1: string
  helloworldV2: string
  curl: string
}

/** Pinned defaults for the traffic check (the images of Istio's samples/helloworld and samples/curl). */
export const DEFAULT_IMAGES: VerifyImages = {
  helloworldV1: 'docker.io/istio/examples-helloworld-v1:1.0',
  helloworldV2: 'docker.io/istio/examples-helloworld-v2:1.0',
  curl: 'docker.io/curlimages/curl:8.16.0'
}

/**
 * The probe pods' image (issue 14): the probe is a POSIX sh script around curl ≥ 7.55 (`-H @file`). curlimages/curl is
 * Alpine with busybox sh, tr and cut, and curl 8; the same image as the traffic check, so one pull serves both.
 */
export const DEFAULT_PROBE_IMAGE = DEFAULT_IMAGES.curl

/** Istio's images: 1.30.x would otherwise render registry.istio.io/release, retired in December 2026. */
export const DEFAULT_HUB = 'docker.io/istio'

export function imageInput(src: ConfigSource, name: string, fallback: string): string {
  const text = src.input(name).trim() || fallback
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(text) || /\s/.test(text))
    throw new InputError(name, '', `must be an image reference like "${fallback}", got ${JSON.stringify(text)}`)
  return text
}

/**
 * An image repository that istioctl appends `/<image>:<tag>` to: an optional registry host (with port), then lowercase
 * path components (the reference grammar of the distribution spec; what istioctl's validateHub accepts, and stricter).
 */
export function parseHub(text: string): string {
  const hub = text.trim() || DEFAULT_HUB
  const problem = hubProblem(hub)
  if (problem)
    throw new InputError(
      'hub',
      '',
      `${problem}; give a registry and path like "${DEFAULT_HUB}" or "my-mirror.example:5000/istio", got ${JSON.stringify(hub)}`
    )
  return hub
}

function hubProblem(hub: string): string | undefined {
  if (/\s/.test(hub)) return 'must not contain spaces'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(hub)) return 'must not start with a scheme (no "https://")'
  if (hub.endsWith('/')) return 'must not end with "/"'
  const parts = hub.split('/')
  const last = parts[parts.length - 1]
  if (last.includes('@') || (parts.length > 1 && last.includes(':')))
    return 'must not carry a tag or digest: istioctl appends "/<image>:<version>" to it'
  const registry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.shift()! : undefined
  if (
    registry !== undefined &&
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/.test(registry)
  )
    return `has a registry part ${JSON.stringify(registry)} that is not a host name with an optional port`
  const bad = parts.find((p) => !/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/.test(p))
  if (bad !== undefined)
    return `has a path component ${JSON.stringify(bad)}: lowercase letters and digits, separated by ".", "_" or "-"`
  return undefined
}
