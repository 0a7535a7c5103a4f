// Process-level helpers shared by the commands: the baked-in version, stdin, sleeping.
import { readSync } from 'node:fs'

// releases.js replaces this literal when it packages the executable; from the source tree the
// version comes from $SIM_ISTIOCTL_VERSION (default 1.30.3).
const BAKED_VERSION = '@@SIM_ISTIOCTL_VERSION@@'
export const CLIENT_VERSION = BAKED_VERSION.startsWith('@@')
  ? process.env.SIM_ISTIOCTL_VERSION || '1.30.3'
  : BAKED_VERSION
/** The minor of a version ("1.30.3" → 30); 99 when it has none, so unknown versions count as new. */
export const minorOf = (/** @type {string} */ v) => Number(/^(\d+)\.(\d+)/.exec(v)?.[2] ?? 99)

export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** @param {Buffer} buf */
function readChunk(buf) {
  for (;;) {
    try {
      return readSync(0, buf, 0, buf.length, null)
    } catch (err) {
      const code = /** @type {NodeJS.ErrnoException} */ (err).code
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
        continue
      }
      if (code === 'EOF' || code === 'EBADF') return 0
      throw err
    }
  }
}

/** All of stdin (for `-f -`). */
export function readAllStdin() {
  /** @type {Buffer[]} */
  const chunks = []
  const buf = Buffer.alloc(65536)
  for (let n; (n = readChunk(buf)) > 0;) chunks.push(Buffer.from(buf.subarray(0, n)))
  return Buffer.concat(chunks).toString('utf8')
}

/** One line of stdin without its newline, or undefined at EOF (byte by byte: nothing past it is consumed). */
export function readLine() {
  /** @type {number[]} */
  const bytes = []
  const one = Buffer.alloc(1)
  for (;;) {
    const n = readChunk(one)
    if (n === 0) return bytes.length ? Buffer.from(bytes).toString('utf8') : undefined
    if (one[0] === 0x0a) return Buffer.from(bytes).toString('utf8').replace(/\r$/, '')
    bytes.push(one[0])
  }
}

/**
 * mesh.Confirm: print the prompt on stdout, read answers until y/yes or n/no. fmt.Scanln fails on an
 * empty line or EOF, which counts as "no"; extra words on the line fail too.
 * @param {string} prompt
 * @param {NodeJS.WritableStream} [out]
 */
export function confirm(prompt, out = process.stdout) {
  for (;;) {
    out.write(`${prompt} `)
    const line = readLine()
    if (line === undefined) return false
    const words = line.trim().split(/\s+/).filter(Boolean)
    if (words.length !== 1) return false
    const answer = words[0].toUpperCase()
    if (answer === 'Y' || answer === 'YES') return true
    if (answer === 'N' || answer === 'NO') return false
  }
}
