import { readFileSync } from "node:fs"

/**
 * CPU time of this process (every thread: the garbage collector's helpers too), in milliseconds. On a
 * machine shared with other work, a phase's CPU time varies much less than its wall time, so the
 * benchmarks comparing two consumers in one process report both.
 */
export const cpuMillis = (): number => {
  const { system, user } = process.cpuUsage()
  return (user + system) / 1000
}

/**
 * The machine's CPU time so far, from `/proc/stat`, in seconds: busy (every state but idle and iowait;
 * steal, time a virtual machine's hypervisor gave elsewhere, counts as busy: it was not to be had) and in
 * total, summed over its cores. Undefined where there is no `/proc/stat`.
 */
export const machineSeconds = (): { readonly busy: number; readonly total: number } | undefined => {
  try {
    const jiffies = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = jiffies.reduce((a, b) => a + b, 0)
    return { busy: (total - jiffies[3]! - jiffies[4]!) / 100, total: total / 100 }
  } catch {
    return undefined
  }
}
