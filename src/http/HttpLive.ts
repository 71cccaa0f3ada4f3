import { HttpMiddleware, type HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Exit, Layer, LogLevel } from "effect"
import * as Listener from "./Listener.js"

/** Listens on `HOST`:`PORT` (default 127.0.0.1:3000): see `Listener.ts` for start-up and shutdown. */
export const listen = Listener.layerConfig

/** A request URL fit for a log line: the value of `access_token` (SSE clients' credentials) redacted. */
export const redactUrl = (url: string): string => url.replace(/([?&]access_token=)[^&#]*/g, "$1REDACTED")

/**
 * One log line per request, as `HttpMiddleware.logger` writes it, but with `redactUrl`: at debug level
 * (`LOG_LEVEL=debug` shows them), at error level for a 5xx.
 */
const accessLog = HttpMiddleware.make((app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.flatMap(Effect.exit(app), (exit) => {
      const status = Exit.isSuccess(exit) ? exit.value.status : 500
      return Effect.logWithLevel(status >= 500 ? LogLevel.Error : LogLevel.Debug, "Sent HTTP response").pipe(
        Effect.annotateLogs({ "http.method": request.method, "http.url": redactUrl(request.url), "http.status": status }),
        Effect.zipRight(exit)
      )
    })).pipe(Effect.withLogSpan("http"))
)

/**
 * Serves the routers. Client errors are answered by the routes themselves; a route that does not
 * exist is a 404; anything unforeseen is logged and answered 500 without tearing the server down.
 */
export const serve = <E, R, E2, R2>(routers: Effect.Effect<HttpRouter.HttpRouter<E, R>, E2, R2>) =>
  Layer.unwrapEffect(Effect.map(routers, (router) =>
    router.pipe(
      Effect.catchAllCause((cause) =>
        Cause.isFailType(cause) && (cause.error as { _tag?: string })?._tag === "RouteNotFound"
          ? Effect.succeed(HttpServerResponse.unsafeJson({ error: "NotFound", reason: "no such route" }, { status: 404 }))
          : Effect.logError("unhandled request failure", cause).pipe(
            Effect.as(HttpServerResponse.unsafeJson({ error: "Internal", reason: "unexpected server error" }, { status: 500 }))
          )
      ),
      HttpServer.serve(accessLog)
    )
  )).pipe(
    // An SSE response lasts as long as its client: no span held open for each (memory per subscriber).
    HttpMiddleware.withTracerDisabledWhen((request) => request.url.includes("/notifications/stream")),
    HttpServer.withLogAddress
  )
