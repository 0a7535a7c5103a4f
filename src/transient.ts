// Which failures of kubectl and istioctl pass by themselves: what ClusterTools retries and what polls wait out.
import type { ProcessResult } from './exec.js'

/** klog's prefix (`E1126 03:24:22.772132   29540 memcache.go:265] …`): kubectl repeats its final error in such lines. */
export const KLOG_LINE = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [^\s\]]+:\d+\] /

// Messages of failures that pass: API server restarts, overloaded apiservers, lost connections.
const TRANSIENT = [
  /connection refused/i,
  // kubectl's own line for it (the klog lines before it, which say "connection refused", are not always printed).
  /The connection to the server \S+ was refused/,
  /connection reset/i,
  /broken pipe/i,
  /i\/o timeout/i,
  /TLS handshake timeout/i,
  /EOF$/m,
  /unexpected EOF/i,
  /\b(500|502|503|504)\b/,
  /the server is currently unable to handle the request/i,
  // 504 / ServerTimeout: kubectl and client-go print the Status message, not the code.
  /unable to return a response in the time allotted/i,
  /\((ServiceUnavailable|ServerTimeout|Timeout|TooManyRequests)\)/,
  /etcdserver: request timed out/i,
  /Client\.Timeout exceeded/i,
  // kubectl's --request-timeout ran out on one request (Go's `Post "<url>": context deadline exceeded`); not
  // istioctl's readiness timeout ("resources not ready after 5m0s: context deadline exceeded"), which names no URL.
  /"https?:\/\/[^"\s]+": context deadline exceeded/,
  /http2: (client connection lost|server sent GOAWAY)/i,
  // An admission webhook whose backend (istiod, while it restarts) has no ready pod: the API server's 500 InternalError
  // (k8s.io/apiserver admission/plugin/webhook/validating/dispatcher.go → NewInternalError(ErrCallingWebhook)):
  // `Internal error occurred: failed calling webhook "validation.istio.io": failed to call webhook: Post
  // "https://istiod.istio-system.svc:443/validate?timeout=10s": no endpoints available for service "istiod"`. It passes
  // once istiod is ready. The same error ending `dial tcp 10.96.0.12:443: connect: connection refused` (ClusterIP
  // routing) or `…?timeout=10s": context deadline exceeded` is matched above. A webhook that answers and denies
  // (`admission webhook "…" denied the request`) is not transient.
  /failed calling webhook "[^"]+": (failed to call webhook: )?Post "[^"]+": no endpoints available for service/,
  /too many requests|rate limit/i,
  /try again/i
]

/** istioctl's readiness wait ran out: the wait itself was the retry, and the pods' reasons may quote any error text. */
const READINESS_TIMEOUT = /resources not ready after \S+: context deadline exceeded/

export function isTransient(stderr: string): boolean {
  return !READINESS_TIMEOUT.test(stderr) && TRANSIENT.some((re) => re.test(stderr))
}

/** A command that ended by itself (not at its time limit, not unstartable) with a transient failure: worth another try. */
export function isTransientResult(result: ProcessResult): boolean {
  return !result.timedOut && result.exitCode !== 127 && isTransient(result.stderr)
}

/**
 * Why a failure counts as transient: the last line that says so (kubectl's own error line, not klog's repeats), shortened
 * in the middle; for a webhook, everything from `failed calling webhook "<name>"` on is kept, so the log names it.
 */
export function transientReason(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim())
  const plain = lines.filter((l) => !KLOG_LINE.test(l))
  const line = (
    [...plain].reverse().find((l) => isTransient(l)) ??
    [...lines].reverse().find((l) => isTransient(l)) ??
    lines[lines.length - 1] ??
    ''
  ).trim()
  if (line.length <= 220) return line
  const webhook = line.indexOf('failed calling webhook "')
  if (webhook > 0 && line.length - webhook <= 220)
    return webhook <= 90 ? line : `${line.slice(0, 90).replace(/\s+\S*$/, '')} … ${line.slice(webhook)}`
  return `${line.slice(0, 90)} … ${line.slice(-120)}`
}
