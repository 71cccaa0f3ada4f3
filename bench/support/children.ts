import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Kafka, logLevel } from "kafkajs"
import { defaultLiveEnv } from "../../test/support/servers.js"
import { send } from "./load.js"

export const root = fileURLToPath(new URL("../..", import.meta.url))

// The local stack's addresses and dummy credentials (as the tests use them), unless the environment says otherwise.
for (const [name, value] of Object.entries(defaultLiveEnv)) process.env[name] ??= value
// The benchmarks measure throughput with one publishing token: the per-token rate limit would cap it.
process.env["GATEWAY_RATE_LIMIT"] ??= "1000000000"

export interface Child {
  readonly name: string
  readonly baseUrl: string
  readonly process: ChildProcess
  readonly logs: Array<string>
}

/** Starts `node --import tsx <file> ...args` with env added; its output kept (last 100 lines). */
export const startChild = (name: string, file: string, args: ReadonlyArray<string>, port: number, env: Record<string, string>): Child => {
  // BENCH_PROFILE_DIR: each child writes a CPU profile there when it exits.
  const profile = process.env["BENCH_PROFILE_DIR"]
  const flags = profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profile}/${name}`]
  const child = spawn(process.execPath, [...flags, "--import", "tsx", file, ...args], {
    cwd: root,
    env: { ...process.env, INFRA: "live", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const logs: Array<string> = []
  const keep = (data: Buffer) => {
    logs.push(...data.toString().split("\n").filter((l) => l.length > 0))
    if (logs.length > 100) logs.splice(0, logs.length - 100)
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  return { name, baseUrl: `http://127.0.0.1:${port}`, process: child, logs }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `path` answers (any status below 500). */
export const waitUp = async (child: Child, path: string, timeoutMs = 90_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited: ${child.logs.slice(-20).join("\n")}`)
    try {
      const response = await Promise.race([send(`${child.baseUrl}${path}`, "GET", {}), sleep(3_000).then(() => ({ status: 599 }))])
      if (response.status < 500) return
    } catch {
      // not listening yet
    }
    await sleep(250)
  }
  throw new Error(`${child.name} not up within ${timeoutMs / 1000}s: ${child.logs.slice(-20).join("\n")}`)
}

export const stopChild = async (child: Child) => {
  if (child.process.exitCode !== null) return
  child.process.kill("SIGTERM")
  await Promise.race([new Promise((resolve) => child.process.once("exit", resolve)), sleep(15_000)])
  if (child.process.exitCode === null) child.process.kill("SIGKILL")
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export const cpuSeconds = (pid: number): number => statSeconds(`/proc/${pid}/stat`)

/** The user + system CPU seconds of a /proc `stat` file (a process's or a thread's); NaN if it is gone. */
const statSeconds = (statPath: string): number => {
  try {
    const fields = readFileSync(statPath, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/** CPU seconds (user + system) each thread of a process has used so far, by thread id, from /proc; empty if it is gone. */
export const threadCpuSeconds = (pid: number): Map<number, number> => {
  const threads = new Map<number, number>()
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const seconds = statSeconds(`/proc/${pid}/task/${tid}/stat`)
      if (!Number.isNaN(seconds)) threads.set(Number(tid), seconds)
    }
  } catch {
    // The process is gone.
  }
  return threads
}

/** CPU seconds of a process and its descendants that are still alive (tsx's loader runs in the same process). */
export const treeCpuSeconds = (pid: number): number => cpuSeconds(pid)

/**
 * The three programs as children on a bench topic (12 partitions) and consumer groups of their own, with
 * a bucket and tables of the run's own: archive keys derive from partition and offsets, which a fresh
 * bench topic repeats from 0, so objects in the shared bucket would pass for the production topic's.
 * Ports `basePort` (gateway), +1 (notification), +2 (analytics).
 */
export const startIsolatedPrograms = async (bench: string, run: string, brokers: ReadonlyArray<string>, basePort: number) => {
  const topic = `bench_${bench}_${run}`
  const prefix = `${topic}.`
  const admin = new Kafka({ clientId: `bench-${bench}-admin`, brokers: [...brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true })
  const env = {
    BENCH_TOPIC: topic,
    BENCH_GROUP_PREFIX: prefix,
    S3_BUCKET: `bench-${bench}-${run}`,
    METRICS_TABLE: `bench-${bench}-${run}-metrics`,
    NOTIFICATIONS_TABLE: `bench-${bench}-${run}-notifications`,
    NOTIFICATION_COUNTERS_TABLE: `bench-${bench}-${run}-notification-counters`
  }
  const children = {
    gateway: startChild("gateway", "bench/support/program.ts", ["gateway"], basePort, env),
    notification: startChild("notification", "bench/support/program.ts", ["notification"], basePort + 1, env),
    analytics: startChild("analytics", "bench/support/program.ts", ["analytics"], basePort + 2, env)
  }
  return { topic, prefix, admin, children, env }
}
