import { ProcessResult, isStopping, pause, runProcess } from './exec.js'
import { CancelledError, stderrBlock, tail } from './errors.js'
import { redact } from './secrets.js'
import { KLOG_LINE, isTransientResult, transientReason } from './transient.js'

/**
 * A command that failed for good (after retries): what ran, how it ended, the tail of its stderr. The message holds
 * all of it, so the error is complete wherever it ends up (a step's error, or the run's when no step was running).
 */
export class CommandError extends Error {
  /** `<command> exited with code N (after M attempts)`: the message without the stderr tail. */
  readonly headline: string

  constructor(
    readonly command: string,
    readonly result: ProcessResult,
    readonly attempts: number
  ) {
    const how = result.timedOut
      ? `timed out after ${Math.round(result.durationMs / 1000)} s`
      : result.exitCode === 127
        ? 'could not be started'
        : `exited with code ${result.exitCode ?? result.signal}`
    const headline = `${command} ${how}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`
    const stderrTail = commandTail(result)
    super(stderrTail ? `${headline}\n${stderrBlock(stderrTail)}` : headline)
    this.name = 'CommandError'
    this.headline = headline
  }
  get stderrTail(): string {
    return commandTail(this.result)
  }
}

/** The last lines of stderr (or of stdout when stderr is empty), without klog's repeats, redacted. */
function commandTail(result: ProcessResult): string {
  const text = result.stderr.trim() ? result.stderr : result.stdout
  const lines = text.split('\n')
  const plain = lines.filter((l) => !KLOG_LINE.test(l))
  return redact(tail((plain.some((l) => l.trim()) ? plain : lines).join('\n')))
}

export interface CommandOptions {
  stdin?: string
  timeoutMs?: number
  /** The command only reads or converges (apply, install): safe to run again after a transient failure. */
  retry?: boolean
  /** stdout holds a secret: never written to the log. */
  secretOutput?: boolean
  /** stdout is data for the action (JSON of a read), not for a reader of the log: only its size is logged. */
  quiet?: boolean
  onStdoutLine?: (line: string) => boolean | void
  /** A cleanup that must run even when the action is stopping (exec.ts ProcessOptions.afterStop). */
  afterStop?: boolean
}

/** Where a step writes what it ran and what came back; printed as one log group when the step ends. */
export type StepLog = (line: string) => void

export interface RetryPolicy {
  attempts: number
  /** Backoff before the second attempt; doubled each time. */
  baseDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000 }

/**
 * kubectl waits forever for an answer by default: a request lost on the way (a dropped connection without a reset,
 * an API server that stalls) would hang a step until its command timeout and then fail it for good. With a request
 * timeout such a request fails as "Client.Timeout exceeded", which is transient and retried. Only for verbs that make
 * short requests: watches, exec, logs, `rollout status` and `wait` stream for long on purpose.
 * ISTIO_MULTICLUSTER_REQUEST_TIMEOUT (a kubectl duration such as `30s`) overrides it.
 */
export const DEFAULT_REQUEST_TIMEOUT = '30s'
const SHORT_REQUEST_VERBS = new Set([
  'apply',
  'get',
  'create',
  'delete',
  'patch',
  'label',
  'annotate',
  'replace',
  'scale'
])

export function kubectlRequestTimeout(args: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const verb = args.find((a) => !a.startsWith('-'))
  if (
    !verb ||
    !SHORT_REQUEST_VERBS.has(verb) ||
    args.some((a) => a === '--watch' || a === '-w' || a.startsWith('--watch=') || a.startsWith('--request-timeout'))
  )
    return []
  const wanted = env.ISTIO_MULTICLUSTER_REQUEST_TIMEOUT?.trim()
  return [`--request-timeout=${wanted && /^\d+(ms|s|m)$/.test(wanted) ? wanted : DEFAULT_REQUEST_TIMEOUT}`]
}

/** kubectl and istioctl bound to the action's kubeconfig and one cluster's context. */
export class ClusterTools {
  constructor(
    readonly kubeconfigPath: string,
    readonly istioctlPath: string,
    readonly retryPolicy: RetryPolicy = DEFAULT_RETRY,
    readonly env: NodeJS.ProcessEnv = process.env
  ) {}

  kubectl(cluster: string, args: string[], log: StepLog, opts: CommandOptions = {}): Promise<ProcessResult> {
    return this.run(
      'kubectl',
      ['--kubeconfig', this.kubeconfigPath, '--context', cluster, ...kubectlRequestTimeout(args, this.env), ...args],
      log,
      opts
    )
  }

  istioctl(cluster: string, args: string[], log: StepLog, opts: CommandOptions = {}): Promise<ProcessResult> {
    return this.run(this.istioctlPath, [...args, '--kubeconfig', this.kubeconfigPath, '--context', cluster], log, opts)
  }

  private async run(tool: string, args: string[], log: StepLog, opts: CommandOptions): Promise<ProcessResult> {
    const shown = displayCommand(tool, args)
    const attempts = opts.retry ? this.retryPolicy.attempts : 1
    for (let attempt = 1; ; attempt++) {
      if (isStopping() && !opts.afterStop) throw new CancelledError(`${shown}: not started, the action is stopping`)
      log(`$ ${shown}${opts.stdin !== undefined ? ' <<stdin' : ''}`)
      const result = await runProcess(tool, args, {
        stdin: opts.stdin,
        timeoutMs: opts.timeoutMs,
        env: this.env,
        onStdoutLine: opts.onStdoutLine,
        afterStop: opts.afterStop
      })
      if (!opts.secretOutput && !opts.quiet && result.stdout.trim()) log(redact(result.stdout.trimEnd()))
      if (opts.secretOutput && result.stdout.trim()) log(`(${result.stdout.length} bytes of secret output, not shown)`)
      if (opts.quiet && !opts.secretOutput && result.stdout.trim())
        log(`(${result.stdout.length} bytes of output read)`)
      if (result.stderr.trim()) log(redact(result.stderr.trimEnd()))
      if (result.exitCode === 0 || result.stoppedEarly) return result
      if (isStopping() && !opts.afterStop) throw new CancelledError(`${shown} was stopped: the action is stopping`)
      const transient = isTransientResult(result)
      // A secret stdout must not reach the error's tail either.
      if (!transient || attempt >= attempts)
        throw new CommandError(shown, opts.secretOutput ? { ...result, stdout: '' } : result, attempt)
      const delay = this.retryPolicy.baseDelayMs * 2 ** (attempt - 1)
      log(
        `↻ transient failure of ${shown} (${redact(transientReason(result.stderr))}); retry ${attempt + 1}/${attempts} in ${(delay / 1000).toFixed(1)} s`
      )
      await pause(delay)
    }
  }
}

/** The command as a user would type it, without the kubeconfig path and the request timeout: they are noise in every line. */
export function displayCommand(tool: string, args: string[]): string {
  const name = tool
    .split(/[\\/]/)
    .pop()!
    .replace(/\.exe$/, '')
  const shown: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--kubeconfig') {
      i++
      continue
    }
    if (args[i].startsWith('--request-timeout=')) continue
    shown.push(/[\s"'$`{}]/.test(args[i]) ? `'${args[i].replace(/'/g, `'\\''`)}'` : args[i])
  }
  return [name, ...shown].join(' ')
}
