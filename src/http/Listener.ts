import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, Context, Data, Effect, Layer } from "effect"
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http"
import type { Duplex } from "node:stream"
import { positiveInteger } from "../services/Settings.js"
import { onShutdownSignal } from "../services/ShutdownSignal.js"
import { BadRequest, problemParts } from "./Problem.js"

export interface ListenOptions {
  readonly port: number
  readonly host: string
  /** Pending connections the kernel queues (capped by net.core.somaxconn). */
  readonly backlog?: number
  /** How long open requests may take to finish at shutdown before their connections are cut. */
  readonly closeGraceMillis?: number
}

/** A route served on Node's request and response directly; true when it took the request. */
export type NodeRoute = (request: IncomingMessage, response: ServerResponse) => boolean

/**
 * Routes served ahead of the router, in plain code, for requests whose cost must stay that of Node's
 * own objects (SSE streams: one per client, open for hours). Present with this listener only.
 */
export class NodeRoutes extends Context.Tag("product-events/NodeRoutes")<NodeRoutes, {
  readonly add: (route: NodeRoute) => void
}>() {}

/** The port cannot be listened on: in use, not permitted, or a HOST this machine does not have. */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly message: string }> {
  constructor(options: { readonly port: number; readonly host: string }, cause: unknown) {
    const code = (cause as { code?: string } | undefined)?.code
    const where = `${options.host}:${options.port} (HOST, PORT)`
    super({
      message: code === "EADDRINUSE"
        ? `cannot listen on ${where}: the port is already in use`
        : code === "EACCES"
        ? `cannot listen on ${where}: permission denied`
        : code === "EADDRNOTAVAIL"
        ? `cannot listen on ${where}: no such address on this machine`
        : `cannot listen on ${where}: ${cause instanceof Error ? cause.message : String(cause)}`
    })
    // One line is the whole story: the stack of Node's listen callback says nothing more.
    this.stack = `ListenError: ${this.message}`
  }
}

/**
 * A request Node's parser refuses (a byte a request line may not hold, headers over 16 KiB, a method it
 * does not know) answered as the API answers bad input, a JSON 400 with the parser's reason, where Node
 * would write a bare status line. As Node's own handler: a request timeout is a 408, nothing is written
 * into a response being written (after one written whole, it is), and the connection is closed.
 */
const answerUnparsable = (
  error: Error & { readonly code?: string; readonly rawPacket?: Buffer; readonly bytesParsed?: number },
  socket: Duplex
) => {
  // Node's response on this connection, if any: one whose writing is under way must not be cut into.
  const inFlight = (socket as Duplex & { readonly _httpMessage?: ServerResponse | null })._httpMessage
  if (!socket.writable || (inFlight?.headersSent === true && !inFlight.writableEnded)) return void socket.destroy()
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return void socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n", () => socket.destroy())
  }
  const { body, status } = problemParts(new BadRequest({ reason: `malformed request: ${error.message.replace(/\.$/, "")}` }))
  const text = JSON.stringify(body)
  // A HEAD request gets the headers only, when the bytes read show it was one: the last request line before
  // the error (the read may begin with the end of the previous request's body).
  const read = error.rawPacket?.subarray(0, error.bytesParsed).toString("latin1") ?? ""
  const head = /(?:^|[^A-Z])HEAD [^\r\n]*(?:\r\n[^\r\n]+)*(?:\r\n)?$/.test(read.slice(read.lastIndexOf("\r\n\r\n") + 1))
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
      `connection: close\r\n\r\n${head ? "" : text}`,
    () => socket.destroy()
  )
}

const sleep = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

/**
 * The HTTP listener with a lifecycle fit for long-lived SSE responses:
 * - start-up: the port listens before the routes exist; requests accepted meanwhile wait and are
 *   handed to the routes once they are served (never left unanswered);
 * - shutdown: on SIGTERM/SIGINT (or when the routes' layer closes), no connection is accepted any
 *   more and idle ones are closed; requests arriving on open connections get 503; the listener's own close cuts what
 *   is still open after `closeGraceMillis` (SSE responses were ended by the hub before that).
 */
export const make = (options: ListenOptions) =>
  Effect.gen(function*() {
    const server = createServer({ noDelay: true })
    const early: Array<readonly [IncomingMessage, ServerResponse]> = []
    const nodeRoutes: Array<NodeRoute> = []
    let closing = false
    const holdEarly = (request: IncomingMessage, response: ServerResponse) => {
      if (server.listenerCount("request") > 1) return
      if (closing) {
        response.writeHead(503, { "content-type": "application/json", connection: "close", "retry-after": "1" })
        response.end(JSON.stringify({ error: "Unavailable", reason: "shutting down" }))
      } else early.push([request, response])
    }
    server.on("request", holdEarly)
    server.on("clientError", answerUnparsable)

    const base = yield* NodeHttpServer.make(() => server, {
      port: options.port,
      host: options.host,
      backlog: options.backlog ?? 4096
    }).pipe(Effect.mapError((error) => new ListenError(options, error.cause)))

    const stopAccepting = Effect.suspend(() => {
      if (closing) return Effect.void
      closing = true
      server.close()
      server.closeIdleConnections()
      return Effect.logInfo("stopped accepting connections")
    })

    // At the signal itself, before any layer closes (consumers drain meanwhile): no new connection.
    yield* onShutdownSignal(stopAccepting)

    // Runs before the listener's own release (server.close, which waits for every connection).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* stopAccepting
        const deadline = Date.now() + (options.closeGraceMillis ?? 2000)
        let open = yield* connections(server)
        while (open > 0 && Date.now() < deadline) {
          server.closeIdleConnections()
          yield* sleep(25)
          open = yield* connections(server)
        }
        if (open > 0) {
          server.closeAllConnections()
          yield* Effect.logWarning(`cut ${open} connections still open at shutdown`)
        }
      })
    )

    const routes = NodeRoutes.of({ add: (route) => void nodeRoutes.push(route) })
    return { routes, server: HttpServer.make({
      address: base.address,
      serve: (app, middleware) =>
        Effect.gen(function*() {
          yield* (middleware === undefined ? base.serve(app) : base.serve(app, middleware))
          const router = server.listeners("request").at(-1) as (request: IncomingMessage, response: ServerResponse) => void
          if (nodeRoutes.length > 0 && router !== holdEarly) {
            const dispatch = (request: IncomingMessage, response: ServerResponse) => {
              for (const route of nodeRoutes) if (route(request, response)) return
              router(request, response)
            }
            server.off("request", router)
            server.on("request", dispatch)
            yield* Effect.addFinalizer(() => Effect.sync(() => server.off("request", dispatch)))
          }
          // Added after the routes' own finalizer, so it runs first: stop accepting, then detach the routes.
          yield* Effect.addFinalizer(() => stopAccepting)
          const waiting = early.splice(0)
          if (waiting.length > 0) yield* Effect.logInfo(`answering ${waiting.length} requests accepted during start-up`)
          for (const [request, response] of waiting) server.emit("request", request, response)
        })
    }) }
  })

const connections = (server: ReturnType<typeof createServer>) =>
  Effect.async<number>((resume) => {
    server.getConnections((_, count) => resume(Effect.succeed(count ?? 0)))
  })

export const layer = (options: ListenOptions) =>
  Layer.scopedContext(Effect.map(make(options), ({ routes, server }) =>
    Context.make(HttpServer.HttpServer, server).pipe(Context.add(NodeRoutes, routes))
  )).pipe(Layer.merge(NodeHttpServer.layerContext))

/** Where the programs listen: `HOST`:`PORT`, 127.0.0.1:3000 by default. */
export const address = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(3000)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
})

/** Listens on `address`, backlog `HTTP_BACKLOG` (default 4096). */
export const layerConfig = Layer.unwrapEffect(
  Effect.map(
    Config.all({ address, backlog: positiveInteger("HTTP_BACKLOG", 4096) }),
    ({ address, backlog }) => layer({ ...address, backlog })
  )
)
