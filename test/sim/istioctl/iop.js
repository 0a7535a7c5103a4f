// IstioOperator input handling as in operator/pkg/render (MergeInputs) and apis/validation:
// files merged in order over the profile, then --set; strict decoding (unknown field → error).
import * as yaml from 'js-yaml'
import { readFileSync } from 'node:fs'
import { CliError, GoPanic } from './errors.js'
import { typeCheck, SCHEMA, VALUES_CHECKS } from './iop-schema.js'

// IstioOperators are YAML of any shape until validated: `any` on purpose.
/** @param {any} v @returns {v is Record<string, any>} */
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
/** @param {any} v @returns {any} */
export const clone = (v) => (v === undefined ? undefined : structuredClone(v))

/**
 * values.Map.MergeFrom: maps merge recursively, everything else (lists included) is replaced.
 * @param {Record<string, any>} base @param {Record<string, any>} other
 */
export function mergeFrom(base, other) {
  for (const [k, v] of Object.entries(other)) {
    if (isMap(v) && isMap(base[k])) mergeFrom(base[k], v)
    else base[k] = clone(v)
  }
  return base
}

/**
 * manifests/profiles/*.yaml, reduced to what the simulator renders.
 * @param {string} hub @param {string} tag
 * @returns {Record<string, Record<string, any>>}
 */
function profiles(hub, tag) {
  const def = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { namespace: 'istio-system' },
    spec: {
      hub,
      tag,
      components: {
        base: { enabled: true },
        pilot: { enabled: true },
        ingressGateways: [{ name: 'istio-ingressgateway', enabled: true }],
        egressGateways: [{ name: 'istio-egressgateway', enabled: false }]
      },
      values: {
        defaultRevision: '',
        global: { istioNamespace: 'istio-system', configValidation: true },
        gateways: { 'istio-ingressgateway': {}, 'istio-egressgateway': {} },
        ztunnel: { resourceName: 'ztunnel' }
      }
    }
  }
  const noIngress = [{ name: 'istio-ingressgateway', enabled: false }]
  const ambient = {
    spec: {
      components: { cni: { enabled: true }, ztunnel: { enabled: true }, ingressGateways: noIngress },
      values: { profile: 'ambient' }
    }
  }
  return {
    default: def,
    demo: {
      spec: {
        components: { egressGateways: [{ name: 'istio-egressgateway', enabled: true }] },
        values: { profile: 'demo' }
      }
    },
    minimal: { spec: { components: { ingressGateways: noIngress } } },
    empty: {
      spec: { components: { base: { enabled: false }, pilot: { enabled: false }, ingressGateways: noIngress } }
    },
    remote: {
      spec: {
        components: { base: { enabled: true }, pilot: { enabled: true }, ingressGateways: noIngress },
        values: { profile: 'remote' }
      }
    },
    preview: { spec: { values: { profile: 'preview' } } },
    stable: { spec: { values: { profile: 'stable' } } },
    ambient,
    openshift: {
      spec: {
        components: { cni: { enabled: true } },
        values: { global: { platform: 'openshift' }, profile: 'openshift' }
      }
    },
    'openshift-ambient': mergeFrom(clone(ambient), {
      spec: { values: { global: { platform: 'openshift' }, profile: 'openshift-ambient' } }
    })
  }
}

export const PROFILE_NAMES = Object.keys(profiles('', ''))

/**
 * The hub a release renders every image from. In istio/istio the profile says `hub: registry.istio.io/testing`
 * (manifests/profiles/default.yaml@1.30.3); the release build rewrites it (istio/release-builder
 * pkg/build/helm.go `updateValues`, pkg/build/archive.go) and compiles it in as `HUB` (pkg/util/command.go
 * StandardEnv → istio/istio operator/pkg/render/manifest.go `hubTagOverlay`, which MergeInputs applies over the
 * profile and under the user's files) from release/build.sh's DOCKER_HUB: `registry.istio.io/release` at
 * release-builder tags 1.30.0–1.30.3, `docker.io/istio` at 1.28.x, 1.29.x and 1.31.0-alpha.1 onwards.
 * (Pre-releases differ: 1.30.0-alpha.* used registry.istio.io/testing, 1.31.0-alpha.0 registry.istio.io/release.)
 * @param {string} version
 */
export function releaseHub(version) {
  const [major, minor] = String(version).split('.').map(Number)
  return major === 1 && minor === 30 ? 'registry.istio.io/release' : 'docker.io/istio'
}

/** @param {string} name @param {string} version */
function readProfile(name, version) {
  const all = profiles(releaseHub(version), version)
  const profile = name || 'default'
  const base = clone(all.default)
  if (profile === 'default') return base
  if (!all[profile]) {
    throw new CliError(
      `generate config: merge inputs: profile "${profile}" not found: open profiles/${profile}.yaml: file does not exist`
    )
  }
  return mergeFrom(base, clone(all[profile]))
}

// --- --set paths (values/map.go: splitPath, parseValue, setPathRecurse) ---

const ALWAYS_STRING = [
  'spec.values.compatibilityVersion',
  'spec.tag',
  'spec.values.global.tag',
  'spec.meshConfig.defaultConfig.proxyMetadata.',
  'spec.values.meshConfig.defaultConfig.proxyMetadata.',
  'spec.compatibilityVersion'
]

/** @param {string} path */
export function splitPath(path) {
  const parts = []
  let cur = ''
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '.' && path[i - 1] !== '\\') {
      parts.push(cur)
      cur = ''
    } else cur += path[i]
  }
  parts.push(cur)
  const out = []
  for (const raw of parts) {
    if (!raw) continue
    const s = raw.replaceAll('\\.', '.')
    const b = s.indexOf('[')
    if (b > 0) out.push(s.slice(0, b), s.slice(b))
    else out.push(s)
  }
  return out
}

// Go's strconv.ParseFloat(s, 64): sign, inf/infinity/nan, a decimal or 0x mantissa (hex needs a p exponent), "_"
// only where underscoreOK allows it. undefined where Go returns an error: bad syntax, or overflow to ±Inf (ErrRange).
/** @param {string} s */
function goParseFloat(s) {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s)
  if (special) return special[1] === '-' ? -Infinity : Infinity
  if (/^nan$/i.test(s)) return NaN
  if (s.includes('_') && !underscoreOK(s)) return undefined
  const t = s.replaceAll('_', '')
  const hex = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(t)
  let f
  if (hex) {
    const [, sign, int, frac = '', exp] = hex
    if (!int && !frac) return undefined
    const m = BigInt(`0x${int}${frac}`)
    const e = Number(exp) - 4 * frac.length
    // In two steps, so that a subnormal result is rounded once (2 ** -1078 alone would already be 0).
    f =
      (sign === '-' ? -1 : 1) *
      (m === 0n ? 0 : e < -1000 ? Number(m) * 2 ** (e + 1000) * 2 ** -1000 : Number(m) * 2 ** e)
  } else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) f = Number(t)
  else return undefined
  return Number.isFinite(f) ? f : undefined
}

// strconv's underscoreOK: "_" only between digits, or between a base prefix and a digit.
/** @param {string} s */
function underscoreOK(s) {
  let saw = '^'
  let i = 0
  if (s[0] === '+' || s[0] === '-') s = s.slice(1)
  const hex = /^0x/i.test(s)
  if (/^0[box]/i.test(s)) {
    i = 2
    saw = '0'
  }
  for (; i < s.length; i++) {
    const c = s[i].toLowerCase()
    if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) saw = '0'
    else if (c === '_') {
      if (saw !== '0') return false
      saw = '_'
    } else {
      if (saw === '_') return false
      saw = '!'
    }
  }
  return saw !== '_'
}

// values/map.go parseValue (1.30.3): strconv.Atoi (int64), then ParseFloat, then ParseBool, else the string with
// "\," unescaped. So `--set values.revision=130` (and spec.revision, which is translated that way) is a number.
/** @param {string} v */
export function parseValue(v) {
  if (/^[+-]?\d+$/.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n) return Number(v) || 0 // an int: no -0
  const f = goParseFloat(v)
  if (f !== undefined) return f
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false
  return v.replaceAll('\\,', ',')
}

/** @param {Record<string, any>} base @param {string[]} path @param {unknown} value */
function setPathRecurse(base, path, value) {
  const [seg, next] = path
  const nextIsArray = path.length >= 2 && next.startsWith('[')
  if (!nextIsArray) {
    if (path.length === 1) base[seg] = value
    else {
      if (!isMap(base[seg])) base[seg] = {}
      setPathRecurse(base[seg], path.slice(1), value)
    }
    return
  }
  const last = path.length === 2
  if (!Array.isArray(base[seg])) base[seg] = []
  const list = base[seg]
  const inner = next.slice(1, -1)
  let index
  if (/^-?\d+$/.test(inner)) index = Number(inner)
  else if (inner.includes(':')) {
    const [k, v] = [inner.slice(0, inner.indexOf(':')), inner.slice(inner.indexOf(':') + 1)]
    index = list.findIndex((/** @type {any} */ e) => isMap(e) && e[k] === v)
    if (index < 0) throw new CliError(`generate config: merge inputs: element ${next} not found`)
  } else throw new CliError(`generate config: merge inputs: unknown segment ${next}`)
  if (index < 0 || index >= list.length) {
    if (last) list.push(value)
    else {
      /** @type {Record<string, any>} */
      const m = {}
      setPathRecurse(m, path.slice(2), value)
      list.push(m)
    }
  } else {
    if (!isMap(list[index])) list[index] = {}
    if (last) list[index] = value
    else setPathRecurse(list[index], path.slice(2), value)
  }
}

/** @param {Record<string, any>} target @param {string[]} flags --set values, path=value */
export function setPaths(target, flags, prefix = 'spec.') {
  for (const flag of flags) {
    // getPV: strings.Split on "="; anything but exactly two parts is a path with an empty value.
    const parts = flag.split('=')
    const path = parts.length === 2 ? parts[0].trim() : flag
    const raw = parts.length === 2 ? parts[1].trim() : ''
    const full = prefix + path
    const value = ALWAYS_STRING.some((a) => full.startsWith(a)) ? raw : parseValue(raw)
    setPathRecurse(target, splitPath(full), value)
  }
}

/** @param {any} obj @param {string} path @returns {any} */
export function getPath(obj, path) {
  let cur = obj
  for (const seg of splitPath(path)) {
    if (cur == null) return undefined
    if (seg.startsWith('[')) {
      const i = Number(seg.slice(1, -1))
      cur = Array.isArray(cur) ? cur[i] : undefined
    } else cur = isMap(cur) ? cur[seg] : undefined
  }
  return cur
}

// --- reading files ---

/**
 * Read -f inputs; `-` is stdin and only allowed last (as in MergeInputs).
 * @param {string[]} filenames @param {() => string} readStdin
 * @returns {Array<{ name: string, text: string }>}
 */
export function readInputs(filenames, readStdin) {
  return filenames.map((fn, i) => {
    if (fn === '-') {
      if (i !== filenames.length - 1)
        throw new CliError('generate config: merge inputs: stdin is only allowed as the last filename')
      return { name: '-', text: readStdin() }
    }
    const name = fn.trim()
    try {
      return { name, text: readFileSync(name, 'utf8') }
    } catch (err) {
      const e = /** @type {NodeJS.ErrnoException} */ (err)
      if (e.code === 'ENOENT')
        throw new CliError(`generate config: merge inputs: open ${name}: no such file or directory`)
      if (e.code === 'EISDIR') throw new CliError(`generate config: merge inputs: read ${name}: is a directory`)
      throw new CliError(`generate config: merge inputs: open ${name}: ${e.message}`)
    }
  })
}

/** @param {string} text @returns {Record<string, any>} */
function parseIopText(text) {
  let docs
  try {
    docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined)
  } catch (err) {
    throw new CliError(
      `generate config: merge inputs: unable to parse file: ${String(/** @type {Error} */ (err).message).split('\n')[0]}`
    )
  }
  if (docs.length > 1) {
    throw new CliError(
      'generate config: merge inputs: contains multiple IstioOperator CRs, only one per file is supported'
    )
  }
  const doc = docs[0] ?? {}
  if (!isMap(doc)) {
    throw new CliError(
      'generate config: merge inputs: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}'
    )
  }
  return doc
}

/**
 * MergeInputs: base < profile < files (in order) < --set flags; then IstioOperator → Helm translations.
 * @param {{ name: string, text: string }[]} inputs
 * @param {string[]} setFlags
 * @param {string} version the client version (the compiled-in tag)
 * @returns {Record<string, any>}
 */
export function mergeInputs(inputs, setFlags, version) {
  /** @type {Record<string, any>} */
  const user = { apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', metadata: {}, spec: {} }
  for (const input of inputs) {
    const m = parseIopText(input.text)
    // "Special hack to allow an empty spec to work."
    if (m.spec === null || m.spec === undefined) delete m.spec
    mergeFrom(user, m)
  }
  setPaths(user, setFlags)
  const profile = getPath(user, 'spec.profile')
  const userValues = clone(getPath(user, 'spec.values'))
  const base = readProfile(typeof profile === 'string' ? profile : '', version)
  mergeFrom(base, user)
  translate(base)
  if (isMap(userValues)) mergeFrom(base, { spec: { values: userValues } })
  return base
}

/**
 * translateIstioOperatorToHelm: top-level IstioOperator fields become Helm values.
 * @param {Record<string, any>} iop
 */
function translate(iop) {
  const spec = iop.spec || (iop.spec = {})
  if (spec.values === undefined || spec.values === null) spec.values = {}
  // A non-map `values` is left alone: validation reports it like the real decoder.
  if (!isMap(spec.values)) return
  const values = spec.values
  if (spec.hub !== undefined) setPaths(iop, [`values.global.hub=${spec.hub}`])
  if (spec.tag !== undefined) setPaths(iop, [`values.global.tag=${spec.tag}`])
  // SetSpecPaths(fmt.Sprintf("values.%s=%v", out, v)): the value is parsed again, so a revision "130" becomes the
  // number 130 (compatibilityVersion is on the alwaysString list and stays a string).
  if (spec.revision !== undefined) setPaths(iop, [`values.revision=${spec.revision}`])
  if (spec.compatibilityVersion !== undefined)
    setPaths(iop, [`values.compatibilityVersion=${spec.compatibilityVersion}`])
  if (isMap(spec.meshConfig)) mergeFrom(iop, { spec: { values: { meshConfig: spec.meshConfig } } })
  values.pilot = isMap(values.pilot) ? values.pilot : {}
  values.pilot.enabled = getPath(iop, 'spec.components.pilot.enabled') === true
  values.pilot.cni = isMap(values.pilot.cni) ? values.pilot.cni : {}
  values.pilot.cni.enabled = getPath(iop, 'spec.components.cni.enabled') === true
  const ns = getPath(iop, 'spec.values.global.istioNamespace')
  if (typeof ns === 'string' && ns) {
    iop.metadata = isMap(iop.metadata) ? iop.metadata : {}
    iop.metadata.namespace = ns
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** @param {unknown} s @returns {s is string} */
export function isDns1123Label(s) {
  return typeof s === 'string' && s.length <= 63 && DNS1123_LABEL.test(s)
}

/**
 * The first ±Inf or NaN in the order json.Marshal visits (map keys sorted), as strconv.FormatFloat writes it.
 * @param {unknown} v
 * @returns {string | undefined}
 */
function nonFiniteNumber(v) {
  if (typeof v === 'number')
    return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : undefined
  if (Array.isArray(v)) return v.map(nonFiniteNumber).find(Boolean)
  if (isMap(v))
    return Object.keys(v)
      .sort()
      .map((k) => nonFiniteNumber(v[k]))
      .find(Boolean)
  return undefined
}

/**
 * ParseAndValidateIstioOperator: strict JSON decode of the whole IstioOperator, then the Helm values'
 * types, revision and gateway names. Throws CliError("generate config: …").
 * @param {Record<string, any>} iop
 */
export function validateIop(iop) {
  // It starts with iopm.JSON(), which panics when json.Marshal fails (values/map.go): ±Inf and NaN have no JSON, and
  // parseValue makes them of "inf", "infinity" and "nan" (a revision among them).
  const unsupported = nonFiniteNumber(iop)
  if (unsupported)
    throw new GoPanic(
      `json Marshal: json: unsupported value: ${unsupported}`,
      'istio.io/istio/operator/pkg/values.Map.JSON(...)'
    )
  const decodeErr = typeCheck(iop, SCHEMA)
  if (decodeErr) throw new CliError(`generate config: could not unmarshal: ${decodeErr}`)
  const values = iop.spec?.values
  if (values !== undefined && values !== null) {
    const err = typeCheck(values, VALUES_CHECKS)
    if (err)
      throw new CliError(`generate config: could not unmarshal: error unmarshaling JSON: while decoding JSON: ${err}`)
  }
  /** @type {string[]} */
  const errors = []
  const hubErr = hubProblem(iop.spec?.hub)
  if (hubErr) errors.push(`bad hub: ${hubErr}`)
  const rev = iop.spec?.revision
  if (rev && !isDns1123Label(rev)) errors.push(`invalid revision specified: ${rev}`)
  const nameOk = (/** @type {string} */ n) => /^[a-z0-9.-]{1,254}$/.test(n)
  for (const gw of iop.spec?.components?.egressGateways || []) {
    if (gw?.name && !nameOk(gw.name)) {
      errors.push(`invalid value egressGateways.name: ${gw.name}`)
      break
    }
  }
  for (const gw of iop.spec?.components?.ingressGateways || []) {
    if (gw?.name && !nameOk(gw.name)) {
      errors.push(`invalid value inressGateways.name: ${gw.name}`)
      break
    }
  }
  if (errors.length) throw new CliError(`generate config: ${errors.join(', ')}`)
}

// operator/pkg/apis/validation/validation.go (1.30.3) validateHub: name.NewRepository(hub + "/pilot") from
// go-containerregistry (pkg/name/repository.go, registry.go): a registry part when the first segment looks like a
// host, then only `abcdefghijklmnopqrstuvwxyz0123456789_-./` in the repository.
const REPOSITORY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-./'

/** @param {unknown} hub */
function hubProblem(hub) {
  if (typeof hub !== 'string' || hub === '') return undefined
  const full = `${hub}/pilot`
  const slash = full.indexOf('/')
  const first = full.slice(0, slash)
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost'
  const repo = hasRegistry ? full.slice(slash + 1) : full
  if (hasRegistry && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(first))
    return `registries must be valid RFC 3986 URI authorities: ${first}`
  if ([...repo].some((ch) => !REPOSITORY_CHARS.includes(ch)))
    return `repository can only contain the characters \`${REPOSITORY_CHARS}\`: ${repo}`
  return undefined
}
