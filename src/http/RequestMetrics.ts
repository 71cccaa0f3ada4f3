import { HttpMiddleware, HttpServerRequest } from "@effect/platform"
import { Effect, Exit } from "effect"
import type { Metrics } from "../services/Metrics.js"
import type { RouteTable } from "./Routes.js"

/** The methods labelled as themselves; any other is `other` (a client may send any token as a method). */
const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** Observes one request in `http_request_duration_seconds`, begun at `started` (`performance.now()`). */
export const observeRequest = (metrics: Metrics, method: string, route: string, status: number, started: number) =>
  metrics.httpDuration.observe(
    { method: knownMethods.has(method) ? method : "other", route, status: String(status) },
    (performance.now() - started) / 1000
  )

/** The SSE stream's route: left out of the histogram (see {@link requestDuration}). */
export const streamRoute = "/sellers/{sellerId}/notifications/stream"

/**
 * `http_request_duration_seconds` by method, declared route (never the raw path: the label set stays
 * bounded) and status: from the request to its response's headers, as the router hands the response to
 * Node. The SSE stream is left out: its duration is the client's connection, not the server's work, and
 * where the listener serves it ahead of the router (`SseRoute.ts`) it never reaches this middleware.
 */
export const requestDuration = (metrics: Metrics, routes: RouteTable) =>
  HttpMiddleware.make((app) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const route = routes.routeOf(request.url)
      if (route === streamRoute) return app
      const started = performance.now()
      return Effect.onExit(app, (exit) =>
        Effect.sync(() => observeRequest(metrics, request.method, route, Exit.isSuccess(exit) ? exit.value.status : 500, started)))
    })
  )
