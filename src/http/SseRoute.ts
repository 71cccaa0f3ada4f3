import { Config, Effect, Option, Runtime } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { NotificationHub } from "../services/NotificationHub.js"
import { Auth } from "./Auth.js"
import type { NodeRoute } from "./Listener.js"
import { problemParts } from "./Problem.js"
import { responseSink } from "./SseResponse.js"

const streamPath = /^\/sellers\/([A-Za-z0-9_]{1,64})\/notifications\/stream(?:\?|$)/

const answer = (response: ServerResponse, status: number, headers: Record<string, string>, body: unknown) => {
  if (response.headersSent) return void response.end()
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))
}

/**
 * `GET /sellers/{sellerId}/notifications/stream` on Node's request and response, ahead of the router
 * (see `Listener.NodeRoutes`): a short fiber authenticates and subscribes, then the connection is
 * Node's objects plus the hub's record, with nothing of Effect's per-request machinery held open.
 * Requests it does not take (another path, an invalid sellerId) go to the router, which serves the
 * same stream too (for servers without this listener).
 */
export const makeStreamRoute = Effect.gen(function*() {
  const auth = yield* Auth
  const hub = yield* NotificationHub
  const maxBuffered = yield* Config.integer("SSE_MAX_BUFFERED_BYTES").pipe(Config.withDefault(64 * 1024))
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())

  const serve = (request: IncomingMessage, response: ServerResponse, sellerId: string) =>
    Effect.gen(function*() {
      const url = request.url ?? "/"
      yield* auth.requireSellerOf(sellerId, request.headers.authorization, url)
      const header = request.headers["last-event-id"]
      const lastEventId = Option.fromNullable(typeof header === "string" ? header : null).pipe(
        Option.orElse(() => Option.fromNullable(new URL(url, "http://localhost").searchParams.get("lastEventId"))),
        Option.filter((id) => id.length > 0)
      )
      const { sink, start } = responseSink(response, 3000, maxBuffered)
      const subscription = yield* hub.open(sellerId, lastEventId, sink)
      start()
      if (response.destroyed) subscription.unsafeClose()
      else response.once("close", subscription.unsafeClose)
    }).pipe(
      Effect.catchTags({
        Unauthorized: (p) => Effect.sync(() => problemParts(p)).pipe(Effect.map((x) => answer(response, x.status, x.headers, x.body))),
        Forbidden: (p) => Effect.sync(() => problemParts(p)).pipe(Effect.map((x) => answer(response, x.status, x.headers, x.body))),
        PubSubError: (e) => unavailable(response, e),
        NotificationStoreError: (e) => unavailable(response, e)
      }),
      Effect.catchAllCause((cause) =>
        Effect.logError("notification stream failed", cause).pipe(
          Effect.zipRight(Effect.sync(() => answer(response, 500, {}, { error: "Internal", reason: "unexpected server error" })))
        ))
    )

  const route: NodeRoute = (request, response) => {
    if (request.method !== "GET") return false
    const match = streamPath.exec(request.url ?? "")
    if (match === null) return false
    runFork(serve(request, response, match[1]!))
    return true
  }
  return route
})

const unavailable = (response: ServerResponse, error: { readonly _tag: string; readonly cause?: unknown }) =>
  Effect.logError(`dependency unavailable: ${error._tag}`, error.cause).pipe(
    Effect.zipRight(Effect.sync(() =>
      answer(response, 503, { "retry-after": "5" }, { error: "Unavailable", reason: "a dependency is unavailable; retry later" })
    ))
  )
