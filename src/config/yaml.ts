import * as yaml from 'js-yaml'
import { InputError } from '../errors.js'

/** Inputs are small; anything larger is a mistake (or an attack) and is refused before parsing. */
// Linux refuses a single environment string over 128 KiB, so the runner could not even pass a larger input.
export const MAX_INPUT_BYTES = 64 * 1024
/** Aliases can make a tiny document expand into a huge tree ("billion laughs"); count nodes as if expanded. */
export const MAX_NODES = 20_000

/** Parses a YAML input with the JSON-compatible schema, refusing oversized text and alias blow-ups. */
export function loadYamlInput(input: string, text: string): unknown {
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES)
    throw new InputError(input, '', `is ${Buffer.byteLength(text)} bytes, more than the ${MAX_INPUT_BYTES} allowed`)
  let value: unknown
  try {
    value = yaml.load(text, { schema: yaml.JSON_SCHEMA, json: false })
  } catch (e) {
    const reason = e instanceof yaml.YAMLException ? e.reason : String(e)
    const mark = e instanceof yaml.YAMLException && e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}` : ''
    throw new InputError(input, mark, `is not valid YAML: ${reason}`)
  }
  if (countNodes(value, MAX_NODES) > MAX_NODES)
    throw new InputError(
      input,
      '',
      `expands to more than ${MAX_NODES} YAML nodes (aliases that blow up?); write it out plainly`
    )
  return value
}

function countNodes(value: unknown, budget: number): number {
  let count = 0
  const stack: unknown[] = [value]
  while (stack.length && count <= budget) {
    const v = stack.pop()
    count++
    if (Array.isArray(v)) stack.push(...(v as unknown[]))
    else if (typeof v === 'object' && v !== null) stack.push(...Object.values(v as Record<string, unknown>))
  }
  return count
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a map'
  return `${typeof v} ${JSON.stringify(v)}`
}
