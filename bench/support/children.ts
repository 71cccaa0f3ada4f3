import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { send } from "./load.js"

export const root = fileURLToPath(new URL("../..", import.meta.url))

export interface Child {
  readonly name: string
  readonly baseUrl: string
  readonly process: ChildProcess
  readonly logs: Array<string>
}

/** Starts `node --import tsx <file> ...args` with env added; its output kept (last 100 lines). */
export const startChild = (name: string, file: string, args: ReadonlyArray<string>, port: number, env: Record<string, string>): Child => {
  const child = spawn(process.execPath, ["--import", "tsx", file, ...args], {
    cwd: root,
    env: { ...process.env, INFRA: "live", HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "Warning", ...env },
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
export const cpuSeconds = (pid: number): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/** CPU seconds of a process and its descendants that are still alive (tsx's loader runs in the same process). */
export const treeCpuSeconds = (pid: number): number => cpuSeconds(pid)
