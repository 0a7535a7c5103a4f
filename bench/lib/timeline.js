// When each step of the action started and ended, read from its log as it arrives. A step's start line ends with its
// stable id, `▸ <cluster> · <title> [<cluster>/<kind>]` (the id is stepId() in src/plan.ts); its group header,
// `::group::✔ <cluster> · <title> (<d> s)[: value]`, names it as the start line did. Titles are not parsed: they
// change with the inputs and the wording, the kind does not.

/** @typedef {'start' | 'ok' | 'failed'} StepEventKind */
/** @typedef {{ cluster: string, step: string, event: StepEventKind }} StepEvent step: the step's kind (control-plane, …) */
/** @typedef {StepEvent & { at: number }} TimedStepEvent at: ms since the action started */

const START = /^▸ (.+) \[([^/\]\s]+)\/([^/\]\s]+)\]$/
const GROUP = /^::group::([✔✖]) (.+)$/

/**
 * A reader of the log, one line at a time: returns the step event a line is, or undefined. A start line without an id
 * is no event, nor is a group header of a step whose start line it has not seen (the action's own `mesh · …` groups).
 * @returns {(line: string) => StepEvent | undefined}
 */
export function stepEventReader() {
  /** @type {Map<string, { cluster: string, step: string }>} "<cluster> · <title>" → its step */
  const started = new Map()
  return (line) => {
    const start = START.exec(line)
    if (start) {
      const [, label, cluster, step] = start
      started.set(label, { cluster, step })
      return { cluster, step, event: 'start' }
    }
    const group = GROUP.exec(line)
    if (!group) return undefined
    // The longest label that the header continues with " (": a title may hold " (" itself.
    const label = [...started.keys()]
      .filter((l) => group[2].startsWith(`${l} (`))
      .sort((a, b) => b.length - a.length)[0]
    const step = label === undefined ? undefined : started.get(label)
    return step && { ...step, event: group[1] === '✔' ? 'ok' : 'failed' }
  }
}

/**
 * Timestamps the step events of a child's stdout as its chunks arrive, into `timeline`.
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} t0 Date.now() at the spawn
 * @param {TimedStepEvent[]} timeline
 */
export function recordTimeline(child, t0, timeline) {
  const read = stepEventReader()
  let partial = ''
  child.stdout?.on('data', (/** @type {Buffer} */ chunk) => {
    const now = Date.now()
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const e = read(line)
      if (e) timeline.push({ at: now - t0, ...e })
    }
  })
}
