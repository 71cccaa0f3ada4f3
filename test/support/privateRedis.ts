import { type ChildProcess, spawn } from "node:child_process"
import { reachable } from "./servers.js"
import { freePort, sleep } from "./processes.js"

/**
 * A Redis of a test's own on a free loopback port, with no persistence (`--save '' --appendonly no`),
 * so that a test can kill and restart it without touching the shared one on :6379.
 */
export interface PrivateRedis {
  readonly url: string
  /** SIGKILL: clients see the connection drop, no shutdown handshake. */
  readonly kill: () => Promise<void>
  /** Starts it again on the same port; resolves once it accepts connections. */
  readonly start: () => Promise<void>
}

export const startPrivateRedis = async (): Promise<PrivateRedis> => {
  const port = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  const start = async () => {
    const process_ = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore"
    })
    child = process_
    exited = new Promise((r) => process_.once("exit", () => r()))
    for (let i = 0; i < 100; i++) {
      if (await reachable({ host: "127.0.0.1", port }, 200)) return
      await sleep(100)
    }
    throw new Error(`private redis-server on :${port} did not start`)
  }
  const kill = async () => {
    const running = child
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    running.kill("SIGKILL")
    await exited
    child = undefined
  }
  await start()
  return { url: `redis://127.0.0.1:${port}`, kill, start }
}
