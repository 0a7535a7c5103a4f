/** Parses Go-style durations as users write them for kubectl/istioctl: `90s`, `5m`, `1h30m`, `1.5m`, or bare seconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim()
  if (/^\d+$/.test(s)) return Number(s) * 1000
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return undefined
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  let total = 0
  for (const [, value, , u] of s.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) total += Number(value) * unit[u]
  return total
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
