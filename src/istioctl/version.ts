/** What the user asked for in `istio-version`: the newest release, the newest patch of a minor, or one exact release. */
export type VersionSpec =
  { kind: 'latest' } | { kind: 'minor'; major: number; minor: number } | { kind: 'exact'; version: string }

export interface Semver {
  major: number
  minor: number
  patch: number
}

const EXACT = /^v?(\d+)\.(\d+)\.(\d+)$/
const MINOR = /^v?(\d+)\.(\d+)$/

/** Oldest release the action drives: `create-remote-secret` became a top-level command in 1.19. */
export const MIN_VERSION: Semver = { major: 1, minor: 19, patch: 0 }

export function parseVersionSpec(text: string): VersionSpec | string {
  const s = text.trim()
  if (s === '' || s === 'latest') return { kind: 'latest' }
  let m = EXACT.exec(s)
  if (m) {
    const v = { major: +m[1], minor: +m[2], patch: +m[3] }
    if (compareSemver(v, MIN_VERSION) < 0)
      return `${formatSemver(v)} is older than ${MIN_VERSION.major}.${MIN_VERSION.minor}, the first release with a top-level "istioctl create-remote-secret"`
    return { kind: 'exact', version: formatSemver(v) }
  }
  m = MINOR.exec(s)
  if (m) {
    const v = { major: +m[1], minor: +m[2], patch: 0 }
    if (compareSemver(v, MIN_VERSION) < 0)
      return `${m[1]}.${m[2]} is older than ${MIN_VERSION.major}.${MIN_VERSION.minor}, the first release with a top-level "istioctl create-remote-secret"`
    return { kind: 'minor', major: v.major, minor: v.minor }
  }
  return `must be "latest", a minor version like "1.30" or an exact release like "1.30.3", got "${s}"`
}

/** A plain release X.Y.Z (no prerelease suffix), or undefined. */
export function parseSemver(text: string): Semver | undefined {
  const m = EXACT.exec(text.trim())
  return m ? { major: +m[1], minor: +m[2], patch: +m[3] } : undefined
}

export function compareSemver(a: Semver, b: Semver): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

export function formatSemver(v: Semver): string {
  return `${v.major}.${v.minor}.${v.patch}`
}

/** The release a spec selects among published plain releases, or undefined when none fits. */
export function selectVersion(spec: VersionSpec, available: string[]): string | undefined {
  const releases = available.map(parseSemver).filter((v): v is Semver => v !== undefined)
  const fitting = releases.filter((v) =>
    spec.kind === 'latest'
      ? true
      : spec.kind === 'minor'
        ? v.major === spec.major && v.minor === spec.minor
        : formatSemver(v) === spec.version
  )
  fitting.sort(compareSemver)
  return fitting.length ? formatSemver(fitting[fitting.length - 1]) : undefined
}

/** The releases closest to a missing one, for the "not found" message. */
export function nearestVersions(wanted: string, available: string[], count = 3): string[] {
  const w = parseSemver(wanted)
  if (!w) return []
  const score = (v: Semver) =>
    Math.abs(v.major - w.major) * 1e6 + Math.abs(v.minor - w.minor) * 1e3 + Math.abs(v.patch - w.patch)
  return available
    .map(parseSemver)
    .filter((v): v is Semver => v !== undefined)
    .sort((a, b) => score(a) - score(b) || compareSemver(b, a))
    .slice(0, count)
    .map(formatSemver)
}
