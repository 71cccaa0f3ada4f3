import { Headers, HttpTraceContext } from "@effect/platform"
import { Cause, Effect, Exit, FiberId, FiberRef, Option, Runtime, type Tracer } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Metrics } from "../services/Metrics.js"
import { logResponse } from "./AccessLog.js"
import { Auth } from "./Auth.js"
import { readNodeJson } from "./Body.js"
import { Cors } from "./Cors.js"
import { untraced } from "./HttpLive.js"
import type { NodeRoute } from "./Listener.js"
import { internalErrorBody, problemParts } from "./Problem.js"
import { bearerToken, type Publisher } from "./Publisher.js"
import { observeRequest } from "./RequestMetrics.js"

/** `/events`, with or without a query: the request targets the router would route to the endpoint. */
const eventsPath = /^\/events(?:\?|$)/

/** The declared route, as the request metrics label it. */
const route = "/events"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

const internalError: Answer = {
  status: 500,
  headers: {},
  body: JSON.stringify(internalErrorBody)
}

/** The status a request is counted and logged with when its client went away before the answer (as the router's). */
const clientGone = 499

/** Headers as span attributes, as the platform's tracer writes them (`Headers.redact`: a credential as `<redacted>`). */
export const headerAttributes = (
  span: Tracer.Span,
  prefix: string,
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>,
  redactedNames: ReadonlyArray<string | RegExp>
) => {
  const redacted = Headers.redact(headers as Headers.Headers, redactedNames)
  for (const name in redacted) span.attribute(`${prefix}${name}`, String(redacted[name]))
}

/**
 * The server span of a request, as the platform's tracer middleware opens it (`HttpMiddleware.tracer`):
 * `http.server POST`, in the trace of the request's `traceparent` (or b3) if any, with its attributes.
 */
const serverSpan = (
  request: IncomingMessage,
  redactedNames: ReadonlyArray<string | RegExp>,
  answering: Effect.Effect<Answer>
): Effect.Effect<Answer> => {
  const url = request.url ?? "/"
  if (untraced(url)) return answering
  return Effect.useSpan(
    `http.server ${request.method}`,
    {
      parent: Option.getOrUndefined(HttpTraceContext.fromHeaders(request.headers as unknown as Headers.Headers)),
      kind: "server",
      captureStackTrace: false
    },
    (span) => {
      span.attribute("http.request.method", request.method)
      try {
        const protocol = request.headers["x-forwarded-proto"] === "https" ? "https" : "http"
        const full = new URL(url, `${protocol}://${request.headers.host ?? "localhost"}`)
        span.attribute("url.full", full.toString())
        span.attribute("url.path", full.pathname)
        if (full.search.length > 1) span.attribute("url.query", full.search.slice(1))
        span.attribute("url.scheme", full.protocol.slice(0, -1))
      } catch {
        // A target that is no URL: no url attributes, as the platform does.
      }
      if (request.headers["user-agent"] !== undefined) span.attribute("user_agent.original", request.headers["user-agent"])
      headerAttributes(span, "http.request.header.", request.headers, redactedNames)
      if (request.socket.remoteAddress !== undefined) span.attribute("client.address", request.socket.remoteAddress)
      return Effect.tap(Effect.withParentSpan(answering, span), (answer) => {
        span.attribute("http.response.status_code", answer.status)
        headerAttributes(span, "http.response.header.", answer.headers, redactedNames)
      })
    }
  )
}

/**
 * `POST /events` on Node's request and response, ahead of the router (see `Listener.NodeRoutes`): the
 * same publisher as the router's handler (one rate limit, one breaker), answered as the router answers
 * (the API's problem bodies and headers, CORS, a server span, the request metrics and the access log),
 * without the router's per-request machinery: one fiber per request, the events themselves in plain code.
 * Requests it does not take (another method, another path) go to the router.
 */
export const makeEventsRoute = (publisher: Publisher) =>
  Effect.gen(function*() {
    const auth = yield* Auth
    const cors = yield* Cors
    const metrics = yield* Metrics
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    // The headers a span leaves out (authorization, cookies), as the platform's tracer reads them.
    const redactedNames = yield* FiberRef.get(Headers.currentRedactedNames)

    const answer = (request: IncomingMessage): Effect.Effect<Answer> => {
      // As the API's bearer security: the Authorization header after `Bearer `, verified (401 if it does not).
      const token = bearerToken(request.headers.authorization)
      // Not a generator: a local of one would hold the parsed body while Kafka acknowledges.
      const accepted = Effect.flatMap(auth.verify(token), (claims) =>
        Effect.flatMap(readNodeJson(request, publisher.maxBodyBytes), (body) => publisher.publish(claims, token, body)))
      return accepted.pipe(
        Effect.map((accepted): Answer => ({ status: 202, headers: {}, body: JSON.stringify({ accepted }) })),
        Effect.catchAll((problem) => {
          const { body, headers, status } = problemParts(problem)
          return Effect.succeed({ status, headers, body: JSON.stringify(body) })
        }),
        // Not for a client gone: its interruption skips every handler of this fiber (`serve` counts it at exit).
        Effect.catchAllCause((cause) => Effect.as(Effect.logError("unhandled request failure", cause), internalError))
      )
    }

    const serve = (request: IncomingMessage, response: ServerResponse) => {
      const started = performance.now()
      const method = request.method!
      const url = request.url ?? "/"
      const allowed = cors.headersFor(request.headers.origin)
      const answering = Effect.map(answer(request), (answer): Answer => {
        const headers = { "content-type": "application/json", ...answer.headers, ...allowed }
        if (!response.headersSent) response.writeHead(answer.status, headers).end(answer.body)
        return { ...answer, headers }
      })
      return serverSpan(request, redactedNames, answering).pipe(
        Effect.onExit((exit) => {
          if (Exit.isSuccess(exit)) return done(method, url, exit.value.status, started)
          // The client went away (499, not an error), or the answer could not be written: the connection is cut.
          if (Cause.isInterruptedOnly(exit.cause)) return done(method, url, clientGone, started)
          response.destroy()
          return Effect.zipRight(Effect.logError("unhandled request failure", exit.cause), done(method, url, internalError.status, started))
        }),
        Effect.withLogSpan("http")
      )
    }

    /** The request counted in the metrics and the access log. */
    const done = (method: string, url: string, status: number, started: number) =>
      Effect.suspend(() => {
        observeRequest(metrics, method, route, status, started)
        return logResponse(method, url, status)
      })

    const take: NodeRoute = (request, response) => {
      if (request.method !== "POST" || !eventsPath.test(request.url ?? "")) return false
      const fiber = runFork(serve(request, response))
      // As the platform's handler: a client that goes away before its answer interrupts the request.
      response.on("close", () => {
        if (!response.writableEnded) fiber.unsafeInterruptAsFork(FiberId.none)
      })
      return true
    }
    return take
  })
