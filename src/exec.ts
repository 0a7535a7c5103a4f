import { spawn, ChildProcess } from 'node:child_process'

// Why not @actions/exec: it cannot kill its child, so neither a timeout nor the runner's cancel (SIGINT/SIGTERM)
// could stop a hung kubectl/istioctl. This is the one place that starts processes.

export interface ProcessOptions {
  stdin?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  /** Called for each complete stdout line; return true to stop the process (e.g. a watch that saw what it waited for). */
  onStdoutLine?: (line: string) => boolean | void
  /**
   * Removes what the action created (mode: check's temporary Service): it starts even when the action is stopping,
   * so a cancelled run still cleans up. Nothing else may use it.
   */
  afterStop?: boolean
}

export interface ProcessResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
  /** Ended by onStdoutLine returning true. */
  stoppedEarly: boolean
}

const running = new Set<ChildProcess>()
/** Set by terminateAll(): the action is cancelled or ending, so no command may start any more (a retry neither). */
let stopping = false
const stopListeners = new Set<() => void>()
const idleWaiters: (() => void)[] = []

export function runProcess(tool: string, args: string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  const started = Date.now()
  if (stopping && !opts.afterStop)
    return Promise.resolve({
      exitCode: null,
      signal: 'SIGTERM',
      stdout: '',
      stderr: `${tool}: not started: the action is stopping\n`,
      durationMs: 0,
      timedOut: false,
      stoppedEarly: false
    })
  return new Promise((resolve) => {
    const child = spawn(tool, args, {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true
    })
    running.add(child)
    const out: Buffer[] = []
    const err: Buffer[] = []
    let partial = ''
    let timedOut = false
    let stoppedEarly = false
    const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), terminate(child)), opts.timeoutMs) : undefined

    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk)
      if (!opts.onStdoutLine || stoppedEarly) return
      partial += chunk.toString('utf8')
      const lines = partial.split('\n')
      partial = lines.pop()!
      for (const line of lines) {
        if (opts.onStdoutLine(line)) {
          stoppedEarly = true
          terminate(child)
          break
        }
      }
    })
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.stdin.on('error', () => undefined) // a process that exits before reading stdin is reported by its exit code
    child.stdin.end(opts.stdin ?? '')

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (timer) clearTimeout(timer)
      running.delete(child)
      if (running.size === 0) for (const idle of idleWaiters.splice(0)) idle()
      resolve({
        exitCode: spawnError ? 127 : exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (spawnError ? `${tool}: ${spawnError.message}\n` : ''),
        durationMs: Date.now() - started,
        timedOut,
        stoppedEarly
      })
    }
    child.on('error', (e) => finish(null, null, e))
    child.on('close', (code, signal) => finish(code, signal))
  })
}

/** A stopped command that is still there this long after SIGTERM gets SIGKILL. */
export const KILL_AFTER_MS = 3000

/** SIGTERM, then SIGKILL if the process is still there after KILL_AFTER_MS. */
function terminate(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }, KILL_AFTER_MS).unref()
}

/**
 * Stops every running child and lets no new one start: used when the workflow is cancelled, and before the action
 * removes its credential folder. Pending pauses (retry backoffs) end at once.
 */
export function terminateAll(): number {
  stopping = true
  for (const wake of [...stopListeners]) wake()
  const n = running.size
  for (const child of running) terminate(child)
  return n
}

/** Waits `ms`, or less when terminateAll() is called meanwhile: backoffs must not keep a cancelled action alive. */
export function pause(ms: number): Promise<void> {
  if (stopping) return Promise.resolve()
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer)
      stopListeners.delete(wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    stopListeners.add(wake)
  })
}

export function isStopping(): boolean {
  return stopping
}

export function runningCount(): number {
  return running.size
}

/** Resolves once no child runs any more (each exited and its output closed): at once when none runs. */
export function whenIdle(): Promise<void> {
  return running.size === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))
}
