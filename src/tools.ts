import { ProcessResult, runProcess } from './exec.js'
import { tail } from './errors.js'
import { redact } from './secrets.js'

/** A command that failed for good (after retries): what ran, how it ended, the tail of its stderr. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: ProcessResult,
    readonly attempts: number
  ) {
    const how = result.timedOut ? `timed out after ${Math.round(result.durationMs / 1000)} s` : result.exitCode === 127 ? 'could not be started' : `exited with code ${result.exitCode ?? result.signal}`
    super(`${command} ${how}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`)
    this.name = 'CommandError'
  }
  get stderrTail(): string {
    return redact(tail(this.result.stderr || this.result.stdout))
  }
}

export interface CommandOptions {
  stdin?: string
  timeoutMs?: number
  /** The command only reads or converges (apply, install): safe to run again after a transient failure. */
  retry?: boolean
  /** stdout holds a secret: never written to the log. */
  secretOutput?: boolean
  onStdoutLine?: (line: string) => boolean | void
}

/** Where a step writes what it ran and what came back; printed as one log group when the step ends. */
export type StepLog = (line: string) => void

// Messages of failures that pass: API server restarts, overloaded apiservers, lost connections.
const TRANSIENT = [
  /connection refused/i,
  /connection reset/i,
  /broken pipe/i,
  /i\/o timeout/i,
  /TLS handshake timeout/i,
  /EOF$/m,
  /unexpected EOF/i,
  /\b(500|502|503|504)\b/,
  /the server is currently unable to handle the request/i,
  /etcdserver: request timed out/i,
  /Client\.Timeout exceeded/i,
  /http2: (client connection lost|server sent GOAWAY)/i,
  /too many requests|rate limit/i,
  /try again/i
]

export function isTransient(stderr: string): boolean {
  return TRANSIENT.some((re) => re.test(stderr))
}

export interface RetryPolicy {
  attempts: number
  /** Backoff before the second attempt; doubled each time. */
  baseDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000 }

/** kubectl and istioctl bound to the action's kubeconfig and one cluster's context. */
export class ClusterTools {
  constructor(
    readonly kubeconfigPath: string,
    readonly istioctlPath: string,
    readonly retryPolicy: RetryPolicy = DEFAULT_RETRY,
    readonly env: NodeJS.ProcessEnv = process.env
  ) {}

  kubectl(cluster: string, args: string[], log: StepLog, opts: CommandOptions = {}): Promise<ProcessResult> {
    return this.run('kubectl', ['--kubeconfig', this.kubeconfigPath, '--context', cluster, ...args], log, opts)
  }

  istioctl(cluster: string, args: string[], log: StepLog, opts: CommandOptions = {}): Promise<ProcessResult> {
    return this.run(this.istioctlPath, [...args, '--kubeconfig', this.kubeconfigPath, '--context', cluster], log, opts)
  }

  private async run(tool: string, args: string[], log: StepLog, opts: CommandOptions): Promise<ProcessResult> {
    const shown = displayCommand(tool, args)
    const attempts = opts.retry ? this.retryPolicy.attempts : 1
    for (let attempt = 1; ; attempt++) {
      log(`$ ${shown}${opts.stdin !== undefined ? ' <<stdin' : ''}`)
      const result = await runProcess(tool, args, { stdin: opts.stdin, timeoutMs: opts.timeoutMs, env: this.env, onStdoutLine: opts.onStdoutLine })
      if (!opts.secretOutput && result.stdout.trim()) log(redact(result.stdout.trimEnd()))
      if (opts.secretOutput && result.stdout.trim()) log(`(${result.stdout.length} bytes of secret output, not shown)`)
      if (result.stderr.trim()) log(redact(result.stderr.trimEnd()))
      if (result.exitCode === 0 || result.stoppedEarly) return result
      const transient = !result.timedOut && result.exitCode !== 127 && isTransient(result.stderr)
      if (!transient || attempt >= attempts) throw new CommandError(shown, result, attempt)
      const delay = this.retryPolicy.baseDelayMs * 2 ** (attempt - 1)
      log(`↻ transient failure (${redact(firstMatchingLine(result.stderr))}); retry ${attempt + 1}/${attempts} in ${(delay / 1000).toFixed(1)} s`)
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}

function firstMatchingLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim())
  return (lines.find((l) => isTransient(l)) ?? lines[lines.length - 1] ?? '').trim().slice(0, 200)
}

/** The command as a user would type it, with the kubeconfig path shortened: it is noise in every line. */
export function displayCommand(tool: string, args: string[]): string {
  const name = tool.split(/[\\/]/).pop()!.replace(/\.exe$/, '')
  const shown: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--kubeconfig') {
      i++
      continue
    }
    shown.push(/[\s"'$`{}]/.test(args[i]) ? `'${args[i].replace(/'/g, `'\\''`)}'` : args[i])
  }
  return [name, ...shown].join(' ')
}
