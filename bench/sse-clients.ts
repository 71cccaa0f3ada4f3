/**
 * Subscribers of `npm run bench:sse`, in a child process of the driver (each process holds at most
 * what its file-descriptor limit allows). Raw sockets: the HTTP request is written by hand and frames
 * are found by hand in the response bytes (`id: <eventId>` lines); no EventSource, no HTTP client.
 * Driven over IPC: connect, count, report, close.
 */
import { connect, type Socket } from "node:net"

export interface Target {
  readonly port: number
  readonly seller: string
  readonly token: string
}

export type Command =
  | { readonly type: "connect"; readonly targets: ReadonlyArray<Target>; readonly concurrency: number }
  | { readonly type: "count" }
  | { readonly type: "report" }
  | { readonly type: "close" }

export type Reply =
  | { readonly type: "connected"; readonly connected: number; readonly refused: number; readonly firstError: string | null; readonly elapsedMs: number }
  | { readonly type: "count"; readonly perRound: Record<number, number>; readonly ended: number }
  | { readonly type: "report"; readonly received: Record<number, Array<number>> }
  | { readonly type: "closed" }

const now = () => performance.timeOrigin + performance.now()
const received = new Map<number, Array<number>>()
const sockets = new Set<Socket>()
let ended = 0

/** The round of a frame, from the benchmark's productIds `r<round>`: `<seller>-r<round>-<type>-<millis>`. */
const roundOf = (eventId: string) => Number(eventId.split("-")[1]!.slice(1))

const open = (target: Target) =>
  new Promise<string | null>((resolve) => {
    const socket = connect({ port: target.port, host: "127.0.0.1", noDelay: true })
    let headers = true
    let text = ""
    let settled = false
    const settle = (error: string | null) => {
      if (settled) return
      settled = true
      resolve(error)
    }
    socket.setEncoding("latin1")
    socket.on("connect", () => {
      socket.write(
        `GET /sellers/${target.seller}/notifications/stream HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\nauthorization: Bearer ${target.token}\r\n\r\n`
      )
    })
    socket.on("data", (chunk: string) => {
      const at = now()
      text += chunk
      if (headers) {
        const end = text.indexOf("\r\n\r\n")
        if (end < 0) return
        const status = text.slice(0, text.indexOf("\r\n"))
        if (!/^HTTP\/1\.1 200 /.test(status)) {
          socket.destroy()
          return settle(status)
        }
        headers = false
        text = text.slice(end + 4)
        sockets.add(socket)
        settle(null)
      }
      for (;;) {
        const start = text.indexOf("id: ")
        if (start < 0) {
          text = text.slice(-3)
          return
        }
        const lineEnd = text.indexOf("\n", start)
        if (lineEnd < 0) {
          text = text.slice(start)
          return
        }
        const round = roundOf(text.slice(start + 4, lineEnd))
        let times = received.get(round)
        if (times === undefined) received.set(round, (times = []))
        times.push(at)
        text = text.slice(lineEnd)
      }
    })
    socket.on("error", (error) => settle(error.message))
    socket.on("close", () => {
      if (sockets.delete(socket)) ended++
      settle("closed before the response")
    })
  })

const connectAll = async (targets: ReadonlyArray<Target>, concurrency: number) => {
  const started = now()
  let next = 0
  let connected = 0
  let refused = 0
  let firstError: string | null = null
  const worker = async () => {
    while (next < targets.length) {
      const error = await open(targets[next++]!)
      if (error === null) connected++
      else {
        refused++
        firstError ??= error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker))
  return { connected, refused, firstError, elapsedMs: now() - started }
}

const reply = (message: Reply) => process.send!(message)

process.on("message", (command: Command) => {
  switch (command.type) {
    case "connect":
      void connectAll(command.targets, command.concurrency).then((r) => reply({ type: "connected", ...r }))
      return
    case "count":
      return reply({ type: "count", perRound: Object.fromEntries([...received].map(([r, t]) => [r, t.length])), ended })
    case "report":
      return reply({ type: "report", received: Object.fromEntries(received) })
    case "close":
      // A reset, not a close: no socket left in TIME_WAIT, whose tens of thousands (60 s each) would slow
      // the next target's connects (the kernel searches past them for a free port).
      for (const socket of sockets) socket.resetAndDestroy()
      reply({ type: "closed" })
      process.disconnect()
      return
  }
})
