// The machine a measurement ran on and the CPU it used: this process (it hosts every simulated API server), its
// waited-for descendants (the action or the script, kubectl, istioctl), and everything else on the machine.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { filesBelow, node24 } from '../../test/harness/action.js'

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100)

/** Busy CPU ms of the whole machine (all cores), from /proc/stat. */
function machineBusy() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_MS
}

/**
 * The fields of /proc/<pid>/stat after "pid (comm) ": state at 0, utime 11, stime 12, cutime 13, cstime 14.
 * @param {number | 'self'} pid
 */
const procStat = (pid) =>
  fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ')

/** @typedef {{ server: number, tools: number, machine: number, at: number }} CpuSample */
/** @typedef {{ serverMs: number, toolsMs: number, othersMs: number, utilisation: number }} CpuUse */

/**
 * CPU ms so far: `server` = this process, `tools` = waited-for descendants, `machine` = all cores.
 * @returns {CpuSample}
 */
export function cpuNow() {
  const fields = procStat('self')
  const u = process.cpuUsage()
  return {
    server: (u.user + u.system) / 1000,
    tools: (Number(fields[13]) + Number(fields[14])) * TICK_MS,
    machine: machineBusy(),
    at: Date.now()
  }
}

/**
 * CPU used since `a`: by the simulated API servers, by the tools (action/script, kubectl, istioctl), by anything else.
 * @param {CpuSample} a
 * @returns {CpuUse}
 */
export function cpuSince(a) {
  const b = cpuNow()
  const serverMs = Math.round(b.server - a.server)
  const toolsMs = Math.round(b.tools - a.tools)
  const wall = b.at - a.at
  return {
    serverMs,
    toolsMs,
    othersMs: Math.max(0, Math.round(b.machine - a.machine - serverMs - toolsMs)),
    utilisation: +((b.machine - a.machine) / (wall * os.cpus().length)).toFixed(2)
  }
}

/**
 * The CPU of one process itself (without its children) and its peak memory, sampled every 20 ms until it exits: its
 * last sample counts. The peak is the kernel's own high-water mark of the resident set (VmHWM in /proc/<pid>/status),
 * so a spike between two samples is not missed; only the last 20 ms of the process's life are.
 * @param {import('node:child_process').ChildProcess} child
 * @returns {{ ms(): number | undefined, peakRssMb(): number | undefined, stop(): void }}
 */
export function sampleOwnCpu(child) {
  /** @type {number | undefined} */
  let ms
  /** @type {number | undefined} */
  let peakKb
  const read = () => {
    try {
      const f = procStat(/** @type {number} */ (child.pid))
      if (f[0] === 'Z') return
      ms = (Number(f[11]) + Number(f[12])) * TICK_MS
      const hwm = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (hwm) peakKb = Math.max(peakKb ?? 0, Number(hwm[1]))
    } catch {
      // gone already: keep the last sample
    }
  }
  const timer = setInterval(read, 20)
  child.on('exit', () => clearInterval(timer))
  return {
    ms: () => ms,
    peakRssMb: () => (peakKb === undefined ? undefined : Math.round(peakKb / 102.4) / 10),
    stop: () => clearInterval(timer)
  }
}

/**
 * --quiet-wait S: before a measurement, wait (at most S seconds) until the rest of the machine uses less than 10% of
 * its CPUs over one second. Other people's test runs on a shared machine slow the concurrent action far more than the
 * sequential script, so a busy machine flatters the baseline. Returns the share the others used at the start.
 * @param {number} maxS
 */
export async function quietMachine(maxS) {
  const sample = async () => {
    const a = cpuNow()
    await new Promise((r) => setTimeout(r, 1000))
    return cpuSince(a).othersMs / (1000 * os.cpus().length)
  }
  const deadline = Date.now() + maxS * 1000
  let share = await sample()
  while (share > 0.1 && Date.now() < deadline) share = await sample()
  return +share.toFixed(2)
}

/**
 * What the table's last line says about the machine.
 * @param {string} realKubectl
 */
export function machineInfo(realKubectl) {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim()
  /** @param {string} cmd @param {string[]} args */
  const v = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim()
    } catch {
      return '?'
    }
  }
  return {
    nproc: Number(v('nproc', [])),
    cpu,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node24: v(node24(), ['--version']),
    benchNode: process.version,
    kubectl: /Client Version: (\S+)/.exec(v(realKubectl, ['version', '--client']))?.[1],
    kernel: os.release()
  }
}

/**
 * Bytes of the bundle: each entry and the whole folder.
 * @param {string} dist
 */
export function distSize(dist) {
  /** @param {string} f */
  const size = (f) => (fs.existsSync(f) ? fs.statSync(f).size : 0)
  return {
    mainBytes: size(path.join(dist, 'main', 'index.js')),
    postBytes: size(path.join(dist, 'post', 'index.js')),
    totalBytes: filesBelow(dist).reduce((n, f) => n + size(f), 0)
  }
}
