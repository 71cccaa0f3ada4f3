import { type ChildProcess, spawn } from "node:child_process"
import { request } from "node:http"
import { connect } from "node:net"
import { createInterface } from "node:readline"
import { afterEach, describe, expect, it } from "vitest"
import { token } from "../support/embedded.js"
import { freePort, root } from "../support/processes.js"

/**
 * The embedded program as a child process: start-up and SIGTERM as a user meets them.
 * In-memory stack: no server needed.
 */
interface Embedded {
  readonly port: number
  readonly child: ChildProcess
  readonly logs: Array<string>
  readonly exited: Promise<number | null>
}
const started: Array<Embedded> = []
afterEach(() => {
  for (const p of started.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL")
})

const embedded = async (): Promise<Embedded> => {
  const port = await freePort()
  const child = spawn(process.execPath, ["--import", "tsx", "src/programs/embedded.ts"], {
    cwd: root,
    env: { ...process.env, INFRA: "memory", PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const logs: Array<string> = []
  createInterface({ input: child.stdout! }).on("line", (line) => logs.push(line))
  createInterface({ input: child.stderr! }).on("line", (line) => logs.push(line))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const program = { port, child, logs, exited }
  started.push(program)
  return program
}

const waitReady = async (program: Embedded) => {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const ok = await fetch(`http://127.0.0.1:${program.port}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`not ready:\n${program.logs.slice(-20).join("\n")}`)
}

/** Resolves with the status line once `GET path` is answered; the request is written on the first accepted connection. */
const rawGet = (port: number, path: string) =>
  new Promise<{ status: string; connectedAt: number; answeredAt: number }>((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1")
      socket.once("error", () => setTimeout(attempt, 5))
      socket.once("connect", () => {
        const connectedAt = Date.now()
        socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`)
        let text = ""
        socket.on("data", (chunk) => {
          text += chunk.toString("latin1")
          const line = text.indexOf("\r\n")
          if (line >= 0) {
            resolve({ status: text.slice(0, line), connectedAt, answeredAt: Date.now() })
            socket.destroy()
          }
        })
        socket.once("close", () => reject(new Error(`closed without an answer: ${text}`)))
      })
    }
    attempt()
  })

/** An open SSE response: resolves `ended` when the server ends it. */
const openStream = (port: number, seller: string, bearer: string) =>
  new Promise<{ ended: Promise<number> }>((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path: `/sellers/${seller}/notifications/stream`, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`))
      const ended = new Promise<number>((done) => {
        res.on("end", () => done(Date.now()))
        res.on("error", () => done(-1))
      })
      res.resume()
      resolve({ ended })
    })
    req.on("error", reject)
    req.end()
  })

describe("embedded program lifecycle", () => {
  it("answers a request accepted during start-up within a second of readiness", async () => {
    const program = await embedded()
    const early = rawGet(program.port, "/healthz")
    await waitReady(program)
    const ready = Date.now()
    const answer = await early
    expect(answer.status).toMatch(/^HTTP\/1\.1 200/)
    expect(answer.answeredAt - ready).toBeLessThan(1000)
  }, 90_000)

  it("on SIGTERM ends every SSE response at once and exits 0 within 5 s", async () => {
    const program = await embedded()
    await waitReady(program)
    const sellers = ["life_a", "life_b", "life_a"]
    const streams = await Promise.all(sellers.map(async (s) => openStream(program.port, s, await token({ sellerId: s }))))
    const signalled = Date.now()
    program.child.kill("SIGTERM")
    const code = await Promise.race([program.exited, new Promise((resolve) => setTimeout(() => resolve("timeout"), 5000))])
    expect(code, program.logs.filter((l) => l.startsWith("[")).slice(-12).join("\n")).toBe(0)
    const ends = await Promise.all(streams.map((s) => s.ended))
    for (const end of ends) expect(end - signalled).toBeLessThan(5000)
    expect(program.logs.join("\n")).toContain("ended 3 notification streams of 2 sellers")
  }, 90_000)
})
