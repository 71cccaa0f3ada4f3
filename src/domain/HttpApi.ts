// The HTTP API as a declaration: routes, parameters, bodies, errors and auth, from the domain's Schemas.
// The servers implement it (src/http/) and contracts/openapi.json is generated from it.
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Context, JSONSchema, Schema } from "effect"
import {
  BadRequestBody,
  ForbiddenBody,
  MethodNotAllowedBody,
  NotFoundBody,
  PayloadTooLargeBody,
  TooManyRequestsBody,
  UnauthorizedBody,
  UnavailableBody
} from "./HttpErrors.js"
import { SellerId } from "./Ids.js"
import { StoredNotification } from "./Notification.js"
import { ProductEvent } from "./ProductEvent.js"
import { SellerMetrics } from "./SellerMetrics.js"

export const Role = Schema.Literal("seller", "service")
export type Role = typeof Role.Type

/** The claims the services act on. `role: "service"` may publish any seller's events. */
export const Claims = Schema.Struct({
  sellerId: Schema.optional(SellerId),
  role: Schema.optional(Role),
  /** When the token expires, in epoch seconds: an open stream ends then. */
  exp: Schema.optional(Schema.Number)
})
export type Claims = typeof Claims.Type

/** Who made the request: the verified claims of its token. */
export class Caller extends Context.Tag("product-events/Caller")<Caller, Claims>() {}

const bearer = HttpApiSecurity.bearer.pipe(
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "A JWT with `exp` and a `sellerId` claim (or `role: \"service\"`): RS256, ES256 or EdDSA signed by a key of " +
      "`AUTH_JWKS_URL` in production, HS256 signed with `AUTH_JWT_SECRET` in development; with `iss` and `aud` " +
      "equal to `AUTH_ISSUER` and `AUTH_AUDIENCE` when those are set."
  )
)

/** A token that does not verify (401), or signing keys that cannot be fetched to verify it (503). */
const authenticationFailure = Schema.Union(UnauthorizedBody, UnavailableBody)

/** `Authorization: Bearer <JWT>`. */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: authenticationFailure,
  provides: Caller,
  security: { bearer }
}) {}

/** As {@link Authentication}, or `?access_token=<JWT>`: browsers' EventSource cannot set headers. */
export class StreamAuthentication extends HttpApiMiddleware.Tag<StreamAuthentication>()("StreamAuthentication", {
  failure: authenticationFailure,
  provides: Caller,
  security: {
    accessToken: HttpApiSecurity.apiKey({ key: "access_token", in: "query" }).pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The same JWT as a query parameter, for the SSE stream only (EventSource cannot set headers).")
    ),
    bearer
  }
}) {}

export const SellerPath = Schema.Struct({ sellerId: SellerId })

// ---- events

export const EventBatch = Schema.Union(ProductEvent, Schema.Array(ProductEvent)).annotations({
  identifier: "EventBatch",
  description: "One event or an array of events (at least one). All valid: all published; any invalid: none."
})

export const Accepted = Schema.Struct({
  accepted: Schema.Array(Schema.String).annotations({ description: "The eventIds published, in the order sent." })
}).annotations({ identifier: "Accepted", ...HttpApiSchema.annotations({ status: 202 }) })

export const EventsApi = HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.post("publish", "/events")
      .setPayload(EventBatch)
      .addSuccess(Accepted)
      .addError(BadRequestBody)
      .addError(ForbiddenBody)
      .addError(PayloadTooLargeBody)
      .addError(TooManyRequestsBody)
      .addError(UnavailableBody)
      .annotate(OpenApi.Summary, "Publish events")
      .annotate(
        OpenApi.Description,
        "Validates every event (schema, eventId agreeing with its fields), then publishes all of them to Kafka keyed by " +
          "sellerId, answering 202 once Kafka acknowledged them. A seller token may publish only its own seller's events; a " +
          "`role: \"service\"` token any seller's. An eventId is the idempotency key: sending the same event again is " +
          "harmless; sending another event under an eventId already used is a conflict the consumers dead-letter (reason " +
          "`conflict`). 503 while Kafka is unreachable (nothing published; retry with the same events). 429 when the " +
          "token has published more than `GATEWAY_RATE_LIMIT` events in the last second or so (a token bucket per token, " +
          "per process; an array of N events takes N): nothing published, retry after `retry-after` seconds."
      )
  )
  .middleware(Authentication)
  .addError(UnauthorizedBody)

// ---- notifications

export const NotificationsQuery = Schema.Struct({
  limit: Schema.optionalWith(
    Schema.NumberFromString.pipe(
      Schema.int(),
      Schema.between(1, 200),
      Schema.annotations({ message: () => ({ message: "must be an integer from 1 to 200", override: true }), description: "Page size, 1-200 (default 50)." })
    ),
    { exact: true }
  ),
  cursor: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[1-9][0-9]{0,15}$/, { message: () => "is not a cursor from a previous page" }),
      Schema.annotations({ description: "`nextCursor` of the previous page." })
    ),
    { exact: true }
  )
})

export const NotificationPage = Schema.Struct({
  items: Schema.Array(StoredNotification),
  nextCursor: Schema.NullOr(Schema.String).annotations({ description: "Pass as `cursor` for the next (older) page; null on the last page." })
}).annotations({ identifier: "NotificationPage", description: "A page of a seller's notifications, newest first." })

export const StreamQuery = Schema.Struct({
  lastEventId: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "As the `Last-Event-ID` header, for clients that cannot set it; the header wins."
  })
})

export const StreamHeaders = Schema.Struct({
  "last-event-id": Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "The `id` of the last frame received: the stream replays what follows it, then goes live."
  })
})

export const sseFrameDescription = [
  "`text/event-stream`, UTF-8. The first frame is `retry: 3000` (reconnect after 3 s). Then one frame per notification:",
  "",
  "```",
  "id: <eventId>",
  "event: <eventType>",
  "data: <the notification as JSON on one line: StoredNotification>",
  "",
  "```",
  "",
  "and `: heartbeat` comments every 15 s while idle (none while frames flow: no stream is silent longer than 15 s), which keep proxies from closing the connection.",
  "Reconnecting with `Last-Event-ID` (EventSource does this itself) delivers exactly the notifications after that one,",
  "in order, replayed from the store and then live: no gap, no duplicate. An id the store does not know replays",
  "from the oldest stored notification. A client that reads too slowly is disconnected and resumes the same way.",
  "When the token's `exp` passes, the server writes `: token expired: reconnect with a fresh token (and Last-Event-ID)`",
  "and ends the response: reconnect with a fresh token and `Last-Event-ID`, and nothing is missed.",
  "A seller has at most `SSE_MAX_STREAMS_PER_SELLER` (default 20) streams open on one server process at a time: the next",
  "one is answered 429 with `retry-after` until one of them ends."
].join("\n")

export const NotificationStream = HttpApiSchema.withEncoding(
  Schema.String.annotations({ identifier: "NotificationStream", description: sseFrameDescription }),
  { kind: "Text", contentType: "text/event-stream" }
)

export const NotificationsApi = HttpApiGroup.make("notifications")
  .add(
    HttpApiEndpoint.get("list", "/sellers/:sellerId/notifications")
      .setPath(SellerPath)
      .setUrlParams(NotificationsQuery)
      .addSuccess(NotificationPage)
      .addError(UnavailableBody)
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "List a seller's notifications")
      .annotate(OpenApi.Description, "Stored notifications, newest first, by cursor.")
  )
  .add(
    HttpApiEndpoint.get("stream", "/sellers/:sellerId/notifications/stream")
      .setPath(SellerPath)
      .setUrlParams(StreamQuery)
      .setHeaders(StreamHeaders)
      .addSuccess(NotificationStream)
      .addError(TooManyRequestsBody)
      .addError(UnavailableBody)
      .middleware(StreamAuthentication)
      .annotate(OpenApi.Summary, "Live notifications (Server-Sent Events)")
      .annotate(OpenApi.Description, sseFrameDescription)
  )
  .addError(BadRequestBody)
  .addError(UnauthorizedBody)
  .addError(ForbiddenBody)

// ---- metrics

const hourOrDay = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}))?$/

/** True when `s` is `YYYY-MM-DD` or `YYYY-MM-DDTHH` naming a real UTC day (and hour). */
export const isCalendarHourOrDay = (s: string): boolean => {
  const m = hourOrDay.exec(s)
  if (m === null) return false
  const [year, month, day, hour] = [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 0 : Number(m[4])]
  const date = new Date(Date.UTC(year, month - 1, day, hour))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour
}

export const HourOrDay = Schema.String.pipe(
  Schema.pattern(hourOrDay, { message: () => "must be YYYY-MM-DD or YYYY-MM-DDTHH (UTC)" }),
  Schema.filter(isCalendarHourOrDay, { message: () => "is not a calendar date (and hour 00-23)" }),
  Schema.annotations({ description: "A UTC day `YYYY-MM-DD` or hour `YYYY-MM-DDTHH`, inclusive.", examples: ["2026-11-26", "2026-11-26T20"] })
)

export const MetricsQuery = Schema.Struct({
  from: Schema.optionalWith(HourOrDay, { exact: true }),
  to: Schema.optionalWith(HourOrDay, { exact: true })
})

export const MetricsApi = HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("sellerMetrics", "/sellers/:sellerId/metrics")
      .setPath(SellerPath)
      .setUrlParams(MetricsQuery)
      .addSuccess(SellerMetrics)
      .annotate(OpenApi.Summary, "A seller's analytics metrics")
      .annotate(
        OpenApi.Description,
        "Totals, plus the hourly and daily counts between `from` and `to` (inclusive, UTC; all when both are absent). " +
          "A day and an hour compare on what both name: `from=2026-11-26T05&to=2026-11-26` is that day from 05h. " +
          "Fresh within about 2 s of the events being accepted."
      )
  )
  .middleware(Authentication)
  .addError(BadRequestBody)
  .addError(UnauthorizedBody)
  .addError(ForbiddenBody)
  .addError(UnavailableBody)

// ---- health

export const Readiness = Schema.Struct({
  status: Schema.Literal("ready", "not ready"),
  checks: Schema.Record({ key: Schema.String, value: Schema.String }).annotations({
    description: "Per dependency of this process: `up` or `down: <why>`."
  })
}).annotations({ identifier: "Readiness" })

/** `/readyz` when a dependency is down: the same body, status 503. */
export const NotReady = Readiness.annotations({
  identifier: "NotReady",
  description: "Some dependency did not answer within 2 s.",
  ...HttpApiSchema.annotations({ status: 503 })
})

export const PrometheusText = HttpApiSchema.withEncoding(
  Schema.String.annotations({ identifier: "PrometheusText", description: "Prometheus text exposition format 0.0.4." }),
  { kind: "Text", contentType: "text/plain; version=0.0.4" }
)

export const HealthApi = HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
      .annotate(OpenApi.Summary, "The process is alive")
  )
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(Readiness)
      .addError(NotReady)
      .annotate(OpenApi.Summary, "Every dependency of this process answers within 2 s")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(PrometheusText)
      .annotate(OpenApi.Summary, "Prometheus metrics")
      .annotate(
        OpenApi.Description,
        "Counters of consumed, retried and dead-lettered events (by reason, `conflict` among them), consumer lag and " +
          "latency, published and rejected events, requests refused by the rate limit (`gateway_rate_limited_total`), SSE " +
          "subscribers and streams refused by the per-seller limit (`sse_streams_refused_total`), HTTP request durations " +
          "(`http_request_duration_seconds` by method, route and status; not the SSE stream), and the process's own (CPU, " +
          "memory, event-loop lag, GC)."
      )
  )

/** The answers of the router itself, for any path: their bodies join the document's schemas. */
const routerAnswers = (spec: Record<string, any>): Record<string, any> => {
  const schemas: Record<string, unknown> = {}
  for (const body of [NotFoundBody, MethodNotAllowedBody] as ReadonlyArray<Schema.Schema.Any>) {
    const { $defs } = JSONSchema.make(body) as { $defs: Record<string, unknown> }
    Object.assign(schemas, $defs)
  }
  return { ...spec, components: { ...spec.components, schemas: { ...spec.components.schemas, ...schemas } } }
}

/** An API made of some of the groups, as a program serves them (the HTTP contract has them all). */
const api = () =>
  HttpApi.make("product-events").annotateContext(OpenApi.annotations({
    transform: routerAnswers,
    title: "product-events HTTP API",
    version: "1",
    description:
      "The HTTP side of product-events: the ingest gateway (`POST /events`), notification-service (stored " +
      "notifications and their live SSE stream), analytics-service (seller metrics) and every program's health. " +
      "Errors are JSON `{ error, reason, ... }` with the status of their `error`. Any path answers 404 (`NotFound`) " +
      "when no route has it and 405 (`MethodNotAllowed`, with an `allow` header) when it lacks the method; OPTIONS " +
      "answers 204 with `allow`, and a CORS preflight for the origins of `CORS_ORIGINS` (none by default). Each " +
      "program serves an interactive reference of its own routes at `/docs`; notification-service and the embedded " +
      "program serve the seller dashboard at `/dashboard` (static pages, like `/docs` outside this document)."
  }))

/**
 * Without the platform's own `HttpApiDecodeError`: the servers answer a path or query that does not
 * decode with `BadRequest`, which each endpoint with parameters declares.
 */
const ownErrorsOnly = <A extends HttpApi.HttpApi.Any>(self: A): A =>
  Object.assign(Object.create(Object.getPrototypeOf(self)), self, { errorSchema: Schema.Never })

export const ProductEventsApi = ownErrorsOnly(api().add(EventsApi).add(NotificationsApi).add(MetricsApi).add(HealthApi))
export const GatewayApi = ownErrorsOnly(api().add(EventsApi).add(HealthApi))
export const NotificationApi = ownErrorsOnly(api().add(NotificationsApi).add(HealthApi))
export const AnalyticsApi = ownErrorsOnly(api().add(MetricsApi).add(HealthApi))
