import { readdirSync, readFileSync } from "node:fs"

/** Pids of the local stand-in servers (by their command line), to report their CPU next to the services'. */
export const storePids = (): Record<string, number> => {
  const wanted: Record<string, RegExp> = { dynalite: /dynalite/, s3rver: /s3rver/, redis: /redis-server/, kafka: /kafka\.Kafka|kafka-server|kafka\/bin/ }
  const found: Record<string, number> = {}
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ")
    } catch {
      continue
    }
    for (const [name, pattern] of Object.entries(wanted)) {
      if (found[name] === undefined && pattern.test(cmdline) && !cmdline.includes("bench/")) found[name] = Number(entry)
    }
  }
  return found
}
