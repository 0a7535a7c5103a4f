// Runs a program asynchronously and collects its output. Tests must never use spawnSync: the simulated API servers
// live in the test's own process and would never answer.
import { spawn } from 'node:child_process'

/**
 * @param {string} bin
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, stdin?: string }} [opts]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function runCommand(bin, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env: opts.env ?? process.env })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    p.on('error', reject)
    p.on('close', (code) => resolve({ code, stdout, stderr }))
    p.stdin.on('error', () => undefined)
    p.stdin.end(opts.stdin ?? '')
  })
}
