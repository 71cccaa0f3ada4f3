import { createServer, type Server, type Socket, connect } from "node:net"

/**
 * A TCP proxy on 127.0.0.1 (a free port) in front of a real server: a real network fault to put between
 * a live layer and its server. `pause()` resets every open connection and every new one until `resume()`.
 */
export interface FaultProxy {
  readonly port: number
  /** `http://127.0.0.1:<port>`: an endpoint for HTTP clients (the AWS SDK). */
  readonly url: string
  readonly pause: () => void
  readonly resume: () => void
  /** Connections accepted while paused, and so reset. */
  readonly refused: () => number
  readonly close: () => Promise<void>
}

const reset = (socket: Socket) => {
  if (!socket.destroyed) socket.resetAndDestroy()
}

export const startFaultProxy = async (target: { readonly host: string; readonly port: number }): Promise<FaultProxy> => {
  const open = new Set<Socket>()
  let paused = false
  let refused = 0
  const track = (socket: Socket) => {
    open.add(socket)
    socket.once("close", () => open.delete(socket))
    // A reset peer is the fault we inject, not a test failure.
    socket.on("error", () => undefined)
  }

  const server: Server = createServer((client) => {
    track(client)
    if (paused) {
      refused++
      return reset(client)
    }
    const upstream = connect({ host: target.host, port: target.port })
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.once("close", () => upstream.destroy())
    upstream.once("close", () => client.destroy())
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("fault proxy: no TCP address")

  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    pause: () => {
      paused = true
      for (const socket of [...open]) reset(socket)
    },
    resume: () => {
      paused = false
    },
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of [...open]) reset(socket)
        server.close(() => resolve())
      })
  }
}
