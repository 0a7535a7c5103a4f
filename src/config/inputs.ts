import { InputError, closest } from '../errors.js'
import { parseDuration } from '../duration.js'
import { describeType, isMap, loadYamlInput } from './yaml.js'

/** Where the config reads from: inputs, environment and files. Injected so parsing is testable without a runner. */
export interface ConfigSource {
  input(name: string): string
  env: Record<string, string | undefined>
  readFile(file: string): string
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

export function requireUrl(input: string, where: string, value: string, protocols: string[]): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(input, where, `must be a URL (${protocols.join(' or ')}), got ${JSON.stringify(value)}`)
  }
  if (!protocols.includes(url.protocol))
    throw new InputError(input, where, `must use ${protocols.join(' or ')}, got ${JSON.stringify(value)}`)
}

export function durationInput(src: ConfigSource, name: string, fallback: string): number {
  const text = src.input(name).trim() || fallback
  const ms = parseDuration(text)
  if (ms === undefined || ms <= 0)
    throw new InputError(name, '', `must be a duration like "90s", "5m" or "1h30m", got ${JSON.stringify(text)}`)
  if (ms > 6 * 3_600_000)
    throw new InputError(name, '', `must be at most 6h (a job's limit), got ${JSON.stringify(text)}`)
  return ms
}

export function booleanInput(src: ConfigSource, name: string, fallback: boolean): boolean {
  const text = src.input(name).trim().toLowerCase()
  if (text === '') return fallback
  if (text === 'true') return true
  if (text === 'false') return false
  throw new InputError(name, '', `must be "true" or "false", got ${JSON.stringify(text)}`)
}

/** One value of an enum-like input; `allowed` is the input's `as const` list, which also gives its type. */
export function oneOf<T extends string>(src: ConfigSource, name: string, allowed: readonly T[], fallback: T): T {
  const text = src.input(name).trim() || fallback
  if ((allowed as readonly string[]).includes(text)) return text as T
  const hint = closest(text, allowed)
  throw new InputError(
    name,
    '',
    `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(text)}${hint ? `; did you mean "${hint}"?` : ''}`
  )
}

export function parseMaxParallel(text: string): number {
  const s = text.trim()
  if (s === '') return Infinity
  if (!/^\d+$/.test(s) || Number(s) < 1)
    throw new InputError('max-parallel', '', `must be a whole number of at least 1, got ${JSON.stringify(s)}`)
  return Number(s)
}

export function parseAnnotations(text: string): Record<string, string> {
  if (text.trim() === '') return {}
  const value = loadYamlInput('gateway-service-annotations', text)
  if (!isMap(value))
    throw new InputError(
      'gateway-service-annotations',
      '',
      `must be a YAML map of annotation → value, got ${describeType(value)}`
    )
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k) || k.length > 316)
      throw new InputError(
        'gateway-service-annotations',
        `key ${JSON.stringify(k)}`,
        'is not a valid annotation key (prefix/name)'
      )
    if (isMap(v) || Array.isArray(v) || v === null)
      throw new InputError(
        'gateway-service-annotations',
        `key ${JSON.stringify(k)}`,
        `must have a string value, got ${describeType(v)}`
      )
    out[k] = typeof v === 'string' ? v : JSON.stringify(v)
  }
  return out
}
