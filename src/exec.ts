import { spawn, ChildProcess } from 'node:child_process'

// Why not @actions/exec: it cannot kill its child, so neither a timeout nor the runner's cancel (SIGINT/SIGTERM)
// could stop a hung kubectl/istioctl. This is the one place that starts processes.

export interface ProcessOptions {
  stdin?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  /** Called for each complete stdout line; return true to stop the process (e.g. a watch that saw what it waited for). */
  onStdoutLine?: (line: string) => boolean | void
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
export function runProcess(tool: string, args: string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(tool, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true })
    running.add(child)
    const out: Buffer[] = []
    const err: Buffer[] = []
    let partial = ''
    let timedOut = false
    let stoppedEarly = false
    const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), terminate(child)), opts.timeoutMs) : undefined

    child.stdout!.on('data', (chunk: Buffer) => {
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
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk))
    child.stdin!.on('error', () => undefined) // a process that exits before reading stdin is reported by its exit code
    child.stdin!.end(opts.stdin ?? '')

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (timer) clearTimeout(timer)
      running.delete(child)
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

/** SIGTERM, then SIGKILL if the process is still there after 3 s. */
function terminate(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }, 3000).unref()
}

/** Stops every running child: used when the workflow is cancelled. */
export function terminateAll(): number {
  const n = running.size
  for (const child of running) terminate(child)
  return n
}

export function runningCount(): number {
  return running.size
}
