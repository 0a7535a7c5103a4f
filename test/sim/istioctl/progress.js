// istioctl's progress log (operator/pkg/util/progress) as it looks without a terminal: one line per
// change. The real one writes through a pb progress bar, whose default writer is stderr — so these lines
// go to stderr, not stdout.

/** @type {Record<string, string>} */
export const FRIENDLY = {
  Base: 'Istio core',
  Pilot: 'Istiod',
  Cni: 'CNI',
  Ztunnel: 'Ztunnel',
  IngressGateways: 'Ingress gateways',
  EgressGateways: 'Egress gateways'
}

/** @type {Record<string, string>} */
const ICONS = { Base: '⛵️', Pilot: '🧠', Cni: '🪢', Ztunnel: '🔒', IngressGateways: '🛬', EgressGateways: '🛫' }

export class ProgressLog {
  /** @param {NodeJS.WritableStream} out */
  constructor(out = process.stderr) {
    this.out = out
    this.last = ''
    // Components being processed at once (install.go runs independent ones side by side) → what each waits for.
    /** @type {Map<string, string[]>} */
    this.active = new Map()
  }

  /** @param {string} line */
  #write(line) {
    // Without a terminal the bar only writes when the text changes.
    if (line === this.last) return
    this.last = line
    this.out.write(`${line}\n`)
  }

  /**
   * progress.go createStatus: one line for every component in progress, their names and waits sorted.
   * @param {string} component
   * @param {string[]} [waiting]
   */
  processing(component, waiting = []) {
    this.active.set(component, waiting)
    const names = [...this.active.keys()].map((c) => FRIENDLY[c]).sort()
    const wait = [...this.active.values()].flat().sort()
    let msg = `- Processing resources for ${names.join(', ')}.`
    if (wait.length) msg += ` Waiting for ${wait.join(', ')}`
    this.#write(msg)
  }

  /** @param {string} component */
  finished(component) {
    this.active.delete(component)
    this.#write(`✔ ${FRIENDLY[component]} installed ${ICONS[component]}`)
  }

  /** @param {string} component @param {unknown} err */
  failed(component, err) {
    this.active.delete(component)
    this.#write(`✘ ${FRIENDLY[component]} encountered an error: ${err}`)
  }

  pruning() {
    this.#write('- Pruning removed resources')
  }

  complete() {
    this.#write('✔ Installation complete')
  }

  uninstallComplete() {
    this.#write('✔ Uninstall complete')
  }
}
