// pflag-style flag parsing (what cobra gives istioctl): `--f v`, `--f=v`, `-f v`, `-fv`, `-f=v`,
// grouped bool shorthands (`-yv`), repeatable slices, Go durations, and pflag's error wording.
import { CliError, EXIT_FLAG_ERROR } from './errors.js'
import { parseDuration } from './duration.js'

/**
 * @typedef {{ name: string, short?: string, type: 'string'|'bool'|'stringSlice'|'stringArray'|'duration'|'int', default?: any }} FlagSpec
 */

/** @param {string} message */
function flagError(message) {
  return new CliError(message, EXIT_FLAG_ERROR)
}

/** @param {FlagSpec} spec */
function describe(spec) {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`
}

// Go's strconv.ParseBool.
/** @param {string} raw @param {FlagSpec} spec */
function parseBool(raw, spec) {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false
  throw flagError(
    `invalid argument "${raw}" for "${describe(spec)}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`
  )
}

/** @param {Record<string, any>} values @param {FlagSpec} spec @param {string} raw */
function setValue(values, spec, raw) {
  switch (spec.type) {
    case 'bool':
      values[spec.name] = parseBool(raw, spec)
      break
    case 'stringSlice':
      // pflag reads a StringSlice value as one CSV record; empty input is an empty list.
      values[spec.name] = [...(values[spec.name] || []), ...(raw === '' ? [] : raw.split(','))]
      break
    case 'stringArray':
      values[spec.name] = [...(values[spec.name] || []), raw]
      break
    case 'duration': {
      const ms = parseDuration(raw)
      if (ms === undefined) {
        throw flagError(`invalid argument "${raw}" for "${describe(spec)}" flag: time: invalid duration "${raw}"`)
      }
      values[spec.name] = ms
      break
    }
    case 'int':
      if (!/^[-+]?\d+$/.test(raw)) {
        throw flagError(
          `invalid argument "${raw}" for "${describe(spec)}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`
        )
      }
      values[spec.name] = Number(raw)
      break
    default:
      values[spec.name] = raw
  }
}

/**
 * @param {string[]} args
 * @param {FlagSpec[]} specs
 * @returns {{ values: Record<string, any>, positionals: string[], changed: Set<string> }}
 */
export function parseFlags(args, specs) {
  const byName = new Map(specs.map((s) => [s.name, s]))
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short, s]))
  /** @type {Record<string, any>} */
  const values = {}
  for (const s of specs) if (s.default !== undefined) values[s.name] = s.default
  // Slices start empty when first set on the command line (pflag replaces the default).
  /** @type {Set<string>} */
  const changed = new Set()
  /** @type {string[]} */
  const positionals = []
  /** @param {FlagSpec} spec @param {string} raw */
  const set = (spec, raw) => {
    if (!changed.has(spec.name) && (spec.type === 'stringSlice' || spec.type === 'stringArray')) values[spec.name] = []
    changed.add(spec.name)
    setValue(values, spec, raw)
  }

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--') {
      positionals.push(...args.slice(i + 1))
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      const spec = byName.get(name)
      if (!spec) throw flagError(`unknown flag: --${name}`)
      if (eq >= 0) set(spec, arg.slice(eq + 1))
      else if (spec.type === 'bool') set(spec, 'true')
      else if (i + 1 < args.length) set(spec, args[++i])
      else throw flagError(`flag needs an argument: --${name}`)
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Shorthand group: -yv, -fvalue, -f=value, -f value.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]
        const spec = byShort.get(c)
        if (!spec) throw flagError(`unknown shorthand flag: '${c}' in ${arg}`)
        const rest = arg.slice(j + 1)
        if (spec.type === 'bool') {
          if (rest.startsWith('=')) {
            set(spec, rest.slice(1))
            break
          }
          set(spec, 'true')
          continue
        }
        if (rest.length > 0) set(spec, rest.startsWith('=') ? rest.slice(1) : rest)
        else if (i + 1 < args.length) set(spec, args[++i])
        else throw flagError(`flag needs an argument: '${c}' in -${c}`)
        break
      }
      continue
    }
    positionals.push(arg)
  }
  return { values, positionals, changed }
}

/**
 * Cobra finds the sub-command before parsing flags: skip flags (and the value of a known value flag).
 * @param {string[]} args
 * @param {FlagSpec[]} specs
 * @returns {{ name: string|undefined, index: number }}
 */
export function firstPositional(args, specs, from = 0) {
  const takesValue = new Set()
  for (const s of specs) {
    if (s.type === 'bool') continue
    takesValue.add(`--${s.name}`)
    if (s.short) takesValue.add(`-${s.short}`)
  }
  for (let i = from; i < args.length; i++) {
    const a = args[i]
    if (a === '--') return { name: args[i + 1], index: i + 1 }
    if (a.startsWith('-') && a.length > 1) {
      if (!a.includes('=') && takesValue.has(a)) i++
      continue
    }
    return { name: a, index: i }
  }
  return { name: undefined, index: -1 }
}
