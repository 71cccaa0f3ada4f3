/**
 * CPU time of this process (every thread: the garbage collector's helpers too), in milliseconds. On a
 * machine shared with other work, a phase's CPU time varies much less than its wall time, so the
 * benchmarks comparing two consumers in one process report both.
 */
export const cpuMillis = (): number => {
  const { system, user } = process.cpuUsage()
  return (user + system) / 1000
}
