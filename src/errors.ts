/** Bad input: names the input, the item (1-based) and the field, so the user can find it in the workflow file. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly where: string,
    readonly problem: string
  ) {
    super(`Input "${input}"${where ? `, ${where}` : ''}: ${problem}`)
    this.name = 'InputError'
  }
}

/** Position text for an item of a list input: index 0 → `item 1`, plus the field when given. */
export function itemField(index: number, field?: string): string {
  return `item ${index + 1}${field ? `, field "${field}"` : ''}`
}

/** A command that failed: names the cluster, the step, the command and the tail of its stderr. */
export class StepError extends Error {
  constructor(
    readonly cluster: string,
    readonly step: string,
    readonly detail: string,
    readonly command?: string,
    readonly stderrTail?: string
  ) {
    // A CommandError's message already ends with its stderr tail: shown once, after the command.
    const block = stderrTail ? stderrBlock(stderrTail) : undefined
    const headline = block && detail.endsWith(`\n${block}`) ? detail.slice(0, -block.length - 1) : detail
    const parts = [`${cluster} · ${step}: ${headline}`]
    if (command) parts.push(`command: ${command}`)
    if (block) parts.push(block)
    super(parts.join('\n'))
    this.name = 'StepError'
  }
}

/**
 * The action is stopping (cancelled, or ending after a failure): a command was stopped or not started. Not a
 * CommandError on purpose, so that loops which retry failed commands (polls, watches) end at once instead.
 */
export class CancelledError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CancelledError'
  }
}

/** How an error shows the end of a command's stderr. */
export function stderrBlock(stderrTail: string): string {
  return `stderr (last lines):\n${stderrTail}`
}

/** The last `lines` non-empty lines of a text, for error messages. */
export function tail(text: string, lines = 12): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .join('\n')
}

/** Levenshtein distance, for "did you mean" hints on unknown fields. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}

/** The end of an exhaustive switch: TypeScript rejects a call whose argument can still be something. */
export function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`)
}
