import { isStopping, pause } from './exec.js'

/**
 * Tries `attempt` until it returns a value (anything but undefined) and returns that value; undefined once the time is
 * up. It always tries once; it tries again after `intervalMs` only while that next try starts before `deadline` (a
 * Date.now() time) and the action is not stopping. An error thrown by `attempt` ends the poll: the attempt decides
 * which failures are worth another try (and remembers them for its message).
 */
export async function poll<T>(
  deadline: number,
  attempt: () => Promise<T | undefined>,
  intervalMs = 1000
): Promise<T | undefined> {
  for (;;) {
    const value = await attempt()
    if (value !== undefined) return value
    if (Date.now() + intervalMs > deadline || isStopping()) return undefined
    await pause(intervalMs)
  }
}
