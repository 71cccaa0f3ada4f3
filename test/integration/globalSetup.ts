import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"
import { type LiveEnv, liveEnv, type ServerName, unreachable } from "../support/servers.js"

/**
 * Integration tests' global setup: the real servers must answer. Those that do not are started with
 * `infra/up.sh` (bounded; Kafka's first start includes a Maven download) and stopped again at teardown;
 * servers found running are left alone. INFRA_AUTOSTART=0 turns the start off (then missing servers fail).
 */

declare module "vitest" {
  export interface ProvidedContext {
    liveEnv: LiveEnv
  }
}

const root = fileURLToPath(new URL("../..", import.meta.url))
const upTimeoutMs = Number(process.env["INFRA_UP_TIMEOUT_MS"] ?? 15 * 60_000)
const processOf: Record<ServerName, string> = { kafka: "kafka", redis: "redis", dynamodb: "dynalite", s3: "s3rver" }

const run = (script: string, args: ReadonlyArray<string>, timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("bash", [script, ...args], { cwd: root, stdio: ["ignore", "inherit", "inherit"] })
    const timer = setTimeout(() => {
      child.kill("SIGTERM")
      reject(new Error(`${script} did not finish within ${timeoutMs / 1000}s`))
    }, timeoutMs)
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`${script} ${args.join(" ")} failed (exit ${code}); see its output above and .data/logs/`))
    })
  })

export default async function setup(project: TestProject) {
  const env = liveEnv()
  const down = await unreachable(env)
  const started = down.map((e) => processOf[e.name])
  if (down.length > 0) {
    const names = down.map((e) => e.label).join(", ")
    if (process.env["INFRA_AUTOSTART"] === "0") {
      throw new Error(`Integration test servers not reachable: ${names}. Start them with \`npm run infra:up\`.`)
    }
    console.log(`[globalSetup] not running: ${names}; starting them with infra/up.sh`)
    await run("infra/up.sh", [], upTimeoutMs)
  }
  // Tests that stop a broker start brokers of their own from the same jars: resolved here when missing.
  await run("infra/up.sh", ["kafka-libs"], upTimeoutMs)
  Object.assign(process.env, env)
  project.provide("liveEnv", env)
  return async () => {
    if (started.length > 0) await run("infra/down.sh", started, 120_000)
  }
}
