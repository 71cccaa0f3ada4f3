import {
  type HttpApi,
  HttpApiBuilder,
  HttpApiScalar,
  HttpMiddleware,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { Metrics } from "../services/Metrics.js"
import { logResponse } from "./AccessLog.js"
import { Cors } from "./Cors.js"
import * as Listener from "./Listener.js"
import { answerFailure, internalErrorBody, MethodNotAllowed, NotFound, problemResponse } from "./Problem.js"
import { requestDuration } from "./RequestMetrics.js"
import { type PageRoute, routeTable, type RouteTable } from "./Routes.js"

/** Listens on `HOST`:`PORT` (default 127.0.0.1:3000): see `Listener.ts` for start-up and shutdown. */
export const listen = Listener.layerConfig

/** One access-log line per request (`AccessLog.logResponse`). */
const accessLog = HttpMiddleware.make((app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.flatMap(Effect.exit(app), (exit) =>
      Effect.zipRight(logResponse(request.method, request.url, Exit.isSuccess(exit) ? exit.value.status : 500), exit))
  ).pipe(Effect.withLogSpan("http"))
)

/**
 * Requests served without a server span: an SSE response lasts as long as its client (no span held open
 * for each: memory per subscriber), and a URL carrying `access_token` would put the token in the span.
 */
export const untraced = (url: string): boolean => url.includes("/notifications/stream") || url.includes("access_token=")

/** `/docs`: served on the router by `ApiSupport`, as every program does. */
const docsRoute: PageRoute = { path: "/docs", method: "GET" }

/**
 * The API's declared errors answered by their one mapping (`Problem.answerFailure`, which adds the
 * headers a status needs: `www-authenticate`, `retry-after`, `allow`), inside the API so that no
 * route answers them another way.
 */
const ProblemsMiddleware = HttpApiBuilder.middleware((app) =>
  Effect.catchAllCause(app, (cause) => {
    const failure = Cause.failureOption(cause)
    const answer = Option.isSome(failure) ? answerFailure(failure.value) : undefined
    return answer === undefined ? Effect.failCause(cause) : Effect.succeed(answer)
  })
)

/**
 * Around the API: OPTIONS (preflight, or the `allow` list), 404 for a path the API lacks, 405 with
 * `allow` for a method it lacks, CORS headers on every answer, and anything unforeseen logged and
 * answered 500 without tearing the server down. A request whose client went away is not an error.
 */
export const apiApp = (api: HttpApi.HttpApi.Any, routes: RouteTable = routeTable(api, [docsRoute])) =>
  Effect.gen(function*() {
    const app = yield* HttpApiBuilder.httpApp
    const cors = yield* Cors
    const { methodsOf } = routes
    const routed = (request: HttpServerRequest.HttpServerRequest) =>
      app.pipe(
        Effect.catchAllCause((cause) => {
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure) && (failure.value as { _tag?: string })._tag === "RouteNotFound") {
            const allow = methodsOf(request.url)
            return Effect.succeed(problemResponse(
              allow.length === 0
                ? new NotFound({ reason: "no such route" })
                : new MethodNotAllowed({ reason: `${request.method} is not one of ${allow.join(", ")}`, allow })
            ))
          }
          if (Cause.isInterruptedOnly(cause)) return Effect.succeed(HttpServerResponse.empty({ status: 499 }))
          return Effect.logError("unhandled request failure", cause).pipe(
            Effect.as(HttpServerResponse.unsafeJson(internalErrorBody, { status: 500 }))
          )
        })
      )
    const options = (request: HttpServerRequest.HttpServerRequest) => {
      const allow = methodsOf(request.url)
      if (allow.length === 0) return problemResponse(new NotFound({ reason: "no such route" }))
      const preflight = request.headers["access-control-request-method"] !== undefined
        ? cors.preflight(request.headers.origin, allow)
        : {}
      return HttpServerResponse.empty({ status: 204, headers: { allow: allow.join(", "), ...preflight } })
    }
    return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      (request.method === "OPTIONS" ? Effect.succeed(options(request)) : routed(request)).pipe(
        Effect.map((response) =>
          request.method === "OPTIONS"
            ? response
            : HttpServerResponse.setHeaders(response, cors.headersFor(request.headers.origin)))
      ))
  })

/** What `apiApp` stands on: the API's router and middleware, and `/docs` (Scalar, its script inline: no CDN). */
// Scalar would load its fonts from fonts.scalar.com: the reference works offline with the browser's own.
export const ApiSupport = Layer.mergeAll(
  HttpApiScalar.layer({ path: "/docs", scalar: { withDefaultFonts: false } }),
  ProblemsMiddleware
).pipe(
  Layer.provideMerge(Layer.mergeAll(HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer))
)

/**
 * Routes served on the API's router beside its endpoints, as `/docs` is (outside the HTTP contract):
 * the layer that adds them, and their paths (for 404 vs 405, `allow`, and the request metrics' route label).
 */
export interface Pages<E, R> {
  readonly routes: ReadonlyArray<PageRoute>
  readonly layer: Layer.Layer<never, E, R | HttpApiBuilder.Router>
}

export const noPages: Pages<never, never> = { routes: [], layer: Layer.empty }

/** Serves `api` (its groups' handlers and `HttpApi.Api` provided by the caller) with `/docs` and `pages`. */
export const serve = <E = never, R = never>(api: HttpApi.HttpApi.Any, pages: Pages<E, R> = noPages) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const routes = routeTable(api, [docsRoute, ...pages.routes])
    const app = yield* apiApp(api, routes)
    const timed = requestDuration(yield* Metrics, routes)
    return HttpServer.serve(app, (served) => accessLog(timed(served)))
  })).pipe(
    Layer.provide(pages.layer.pipe(Layer.provideMerge(ApiSupport))),
    HttpMiddleware.withTracerDisabledWhen((request) => untraced(request.url)),
    HttpServer.withLogAddress
  )
