import * as core from '@actions/core'

/** Every credential the action has seen: masked in the runner's log and redacted from anything the action prints. */
const known = new Set<string>()
let ordered: string[] = []

export function registerSecret(value: string | undefined): void {
  if (!value) return
  for (const v of [value, ...value.split('\n').map((l) => l.trim())]) {
    // Short values would redact ordinary words; real credentials are long.
    if (v.length < 8 || known.has(v)) continue
    known.add(v)
    core.setSecret(v)
  }
  ordered = [...known].sort((a, b) => b.length - a.length)
}

/** Replaces every registered secret in text; applied to every command output and error the action prints. */
export function redact(text: string): string {
  let out = text
  for (const s of ordered) if (out.includes(s)) out = out.split(s).join('***')
  return out
}
