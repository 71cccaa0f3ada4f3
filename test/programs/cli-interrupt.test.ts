import { spawn } from "node:child_process"
import { once } from "node:events"
import { createServer, type Socket } from "node:net"
import { expect, it } from "vitest"
import { cliBin } from "./run.js"

it("Ctrl-C (SIGINT) during a command exits 130, at once", async () => {
  // A "broker" that accepts connections and never answers: the CLI waits on it until interrupted.
  const sockets: Array<Socket> = []
  const server = createServer((socket) => sockets.push(socket))
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as { port: number }
  const connected = once(server, "connection")
  const [command, ...prefix] = await cliBin()
  const child = spawn(command, [...prefix, "dlq", "replay", "--group", "notification-service", "--dry-run"], {
    env: { ...process.env, KAFKA_BROKERS: `127.0.0.1:${port}` },
    stdio: "pipe"
  })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const closed = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>
  try {
    // Connected: the program is running (and its signal handlers installed).
    await connected
    const t0 = Date.now()
    child.kill("SIGINT")
    const [code, signal] = await closed
    expect({ code, signal, stderr }).toEqual({ code: 130, signal: null, stderr: "" })
    // At once: an interrupted connect does not wait out the client's retries.
    expect(Date.now() - t0).toBeLessThan(5_000)
  } finally {
    child.kill("SIGKILL")
    for (const socket of sockets) socket.destroy()
    server.close()
  }
}, 60_000)
