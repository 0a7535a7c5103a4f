// Exit codes and the error type every command throws; main.js prints `Error: <message>` like cobra.

// istioctl's sysexits: 1 for everything except usage errors.
export const EXIT_ERROR = 1
export const EXIT_USAGE = 64
// Real istioctl maps flag parse errors to 64 too (util.CommandParseError); the shared reference says
// exit 1 for an unknown flag, and this simulator follows the reference.
export const EXIT_FLAG_ERROR = 1

export class CliError extends Error {
  /**
   * @param {string} message printed after "Error: "
   * @param {number} [exitCode]
   * @param {{ preface?: string }} [opts] text printed on stderr before the cobra error line
   */
  constructor(message, exitCode = EXIT_ERROR, opts = {}) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
    this.preface = opts.preface
  }
}

/** An error whose only output is what the command already printed (e.g. "Cancelled."), like os.Exit(1). */
export class SilentExit extends Error {
  constructor(exitCode = EXIT_ERROR) {
    super(`exit ${exitCode}`)
    this.exitCode = exitCode
  }
}

/** A Go panic: the runtime prints "panic: …" and the goroutine's stack on stderr, and exits with 2. */
export class GoPanic extends SilentExit {
  /** @param {string} message @param {string} frame the stack frame Go prints under "goroutine 1 [running]:" */
  constructor(message, frame) {
    super(2)
    this.output = `panic: ${message}\n\ngoroutine 1 [running]:\n${frame}\n`
  }
}
