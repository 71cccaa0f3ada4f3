import { Effect, Option, Runtime } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { NotificationHub } from "../services/NotificationHub.js"
import { logResponse } from "./AccessLog.js"
import { Auth } from "./Auth.js"
import { Cors } from "./Cors.js"
import type { NodeRoute } from "./Listener.js"
import { dependencyDown, internalErrorBody, problemParts, type Problem } from "./Problem.js"
import { positiveInteger } from "../services/Settings.js"
import { responseSink, tooManyStreams } from "./SseResponse.js"

const streamPath = /^\/sellers\/([A-Za-z0-9_]{1,64})\/notifications\/stream(?:\?|$)/

const answer = (response: ServerResponse, status: number, headers: Record<string, string>, body: unknown) => {
  if (response.headersSent) return void response.end()
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))
}

/** A problem answered as the router answers it (`Problem.problemParts`), with the request's CORS headers. */
const answerProblem = (response: ServerResponse, cors: Record<string, string>) => (problem: Problem) =>
  Effect.sync(() => {
    const { body, headers, status } = problemParts(problem)
    answer(response, status, { ...cors, ...headers }, body)
    return status
  })

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
  const cors = yield* Cors
  const maxBuffered = yield* positiveInteger("SSE_MAX_BUFFERED_BYTES", 64 * 1024)
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())

  const serve = (request: IncomingMessage, response: ServerResponse, sellerId: string, allowed: Record<string, string>) =>
    Effect.gen(function*() {
      const url = request.url ?? "/"
      const query = new URL(url, "http://localhost").searchParams
      const claims = yield* auth.fromCredentials(request.headers.authorization, Option.fromNullable(query.get("access_token")))
      yield* auth.requireSeller(claims, sellerId)
      const header = request.headers["last-event-id"]
      const lastEventId = Option.fromNullable(typeof header === "string" ? header : null).pipe(
        Option.orElse(() => Option.fromNullable(query.get("lastEventId"))),
        Option.filter((id) => id.length > 0)
      )
      const { sink, start } = responseSink(response, 3000, maxBuffered, allowed)
      const subscription = yield* hub.open(sellerId, lastEventId, sink, { expiresAt: claims.exp })
      start()
      if (response.destroyed) subscription.unsafeClose()
      else response.once("close", subscription.unsafeClose)
      return 200
    }).pipe(
      Effect.catchTags({
        PubSubError: (e) => dependencyDown(e),
        NotificationStoreError: (e) => dependencyDown(e),
        StreamLimitReached: tooManyStreams
      }),
      Effect.catchAll(answerProblem(response, allowed)),
      Effect.catchAllCause((cause) =>
        Effect.logError("notification stream failed", cause).pipe(
          Effect.zipRight(Effect.sync(() => answer(response, 500, {}, internalErrorBody))),
          Effect.as(500)
        )),
      // The router's access log does not see this route: the same line, once the status is sent.
      Effect.flatMap((status) => logResponse("GET", request.url ?? "/", status)),
      Effect.withLogSpan("http")
    )

  const route: NodeRoute = (request, response) => {
    if (request.method !== "GET") return false
    const match = streamPath.exec(request.url ?? "")
    if (match === null) return false
    runFork(serve(request, response, match[1]!, cors.headersFor(request.headers.origin)))
    return true
  }
  return route
})
