// The HTTP API's errors: one class per status, its status and wire shape declared once, here.
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** One issue of one invalid event of a `POST /events` batch. */
export const EventIssue = Schema.Struct({
  index: Schema.Int.annotations({ description: "Position of the event in the batch (0 for a single event)." }),
  path: Schema.String.annotations({ description: "Dotted path of the offending field, empty for the event itself." }),
  message: Schema.String
}).annotations({ identifier: "EventIssue" })
export type EventIssue = typeof EventIssue.Type

/** 400: the request itself is malformed (body, path or query). */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  reason: Schema.String,
  errors: Schema.optional(Schema.Array(EventIssue))
}) {}

/** 401: no credentials, or credentials that do not verify. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", { reason: Schema.String }) {}

/** 403: valid credentials for someone else's data. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", { reason: Schema.String }) {}

/** 404: no route has this path. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { reason: Schema.String }) {}

/** 405: the path exists, the method does not (`allow` lists those that do). */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", {
  reason: Schema.String,
  allow: Schema.Array(Schema.String)
}) {}

/** 413: the body exceeds the configured limit, however it was sent (Content-Length or chunked). */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", { reason: Schema.String }) {}

/** 429: a limit of this process is reached (streams per seller, events per second per token): retry after `retryAfterSeconds`. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  reason: Schema.String,
  retryAfterSeconds: Schema.Int
}) {}

/** 503: a dependency is down. Not the client's fault, and nothing was lost: retry after `retryAfterSeconds`. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  reason: Schema.String,
  retryAfterSeconds: Schema.Int
}) {}

export type Problem =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | MethodNotAllowed
  | PayloadTooLarge
  | TooManyRequests
  | Unavailable

const problemClasses = { BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, PayloadTooLarge, TooManyRequests, Unavailable }

/** Each problem's status: the one table of them (the OpenAPI document and the responses both read it). */
export const problemStatus = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  TooManyRequests: 429,
  Unavailable: 503
} as const satisfies Record<Problem["_tag"], number>

export const problemDescriptions: Record<Problem["_tag"], string> = {
  BadRequest: "The request is malformed: `reason` says how; for `POST /events`, `errors` lists every issue of every invalid event (nothing was published).",
  Unauthorized: "No bearer token, or one that does not verify (signature, expiry, claims). Comes with `www-authenticate: Bearer`.",
  Forbidden: "The token is valid but does not grant this seller's data (its `sellerId` claim differs), or may not publish another seller's events.",
  NotFound: "No route has this path.",
  MethodNotAllowed: "The path exists but not with this method; the `allow` header (and field) lists the methods it has.",
  PayloadTooLarge: "The body exceeds the configured limit (`GATEWAY_MAX_BODY_BYTES`), with or without a Content-Length.",
  TooManyRequests:
    "A limit of this process is reached: concurrent streams of this seller (`SSE_MAX_STREAMS_PER_SELLER`), or events per second of " +
    "this token (`GATEWAY_RATE_LIMIT`; nothing was published). Retry after the `retry-after` header's seconds.",
  Unavailable:
    "A dependency (Kafka, DynamoDB, Redis, the signing keys of `AUTH_JWKS_URL`) is unreachable; nothing was done. Retry after the " +
    "`retry-after` header's seconds."
}

export const isProblem = (u: unknown): u is Problem =>
  typeof u === "object" && u !== null && Object.values(problemClasses).some((c) => u instanceof c)

/**
 * A problem as it goes on the wire: `{ error: <tag>, reason, ...fields }`. The same schema gives
 * the OpenAPI document its error bodies and the server its responses.
 */
const wire = <Tag extends Problem["_tag"], F extends Schema.Struct.Fields, C extends Schema.Schema<any, any, never>>(
  tag: Tag,
  { _tag: _, ...fields }: F,
  problemClass: C
) =>
  Schema.transform(
    Schema.Struct({ error: Schema.Literal(tag), ...fields }),
    Schema.typeSchema(problemClass) as unknown as Schema.Schema<Schema.Schema.Type<C>>,
    {
      strict: false,
      decode: ({ error: _, ...rest }: any) => new (problemClass as any)(rest),
      encode: ({ _tag, ...rest }: any) => ({ error: _tag, ...rest })
    }
  ).annotations({
    identifier: tag,
    description: problemDescriptions[tag],
    ...HttpApiSchema.annotations({ status: problemStatus[tag] })
  })

export const BadRequestBody = wire("BadRequest", BadRequest.fields, BadRequest)
export const UnauthorizedBody = wire("Unauthorized", Unauthorized.fields, Unauthorized)
export const ForbiddenBody = wire("Forbidden", Forbidden.fields, Forbidden)
export const NotFoundBody = wire("NotFound", NotFound.fields, NotFound)
export const MethodNotAllowedBody = wire("MethodNotAllowed", MethodNotAllowed.fields, MethodNotAllowed)
export const PayloadTooLargeBody = wire("PayloadTooLarge", PayloadTooLarge.fields, PayloadTooLarge)
export const TooManyRequestsBody = wire("TooManyRequests", TooManyRequests.fields, TooManyRequests)
export const UnavailableBody = wire("Unavailable", Unavailable.fields, Unavailable)

const bodies = {
  BadRequest: BadRequestBody,
  Unauthorized: UnauthorizedBody,
  Forbidden: ForbiddenBody,
  NotFound: NotFoundBody,
  MethodNotAllowed: MethodNotAllowedBody,
  PayloadTooLarge: PayloadTooLargeBody,
  TooManyRequests: TooManyRequestsBody,
  Unavailable: UnavailableBody
}

/** A problem's status, headers and JSON body: the one mapping from error to response. */
export const problemParts = (problem: Problem) => {
  const headers: Record<string, string> = problem._tag === "Unauthorized"
    ? { "www-authenticate": 'Bearer realm="product-events"' }
    : problem._tag === "Unavailable" || problem._tag === "TooManyRequests"
    ? { "retry-after": String(problem.retryAfterSeconds) }
    : problem._tag === "MethodNotAllowed"
    ? { allow: problem.allow.join(", ") }
    : {}
  return {
    status: problemStatus[problem._tag],
    headers,
    body: Schema.encodeSync(bodies[problem._tag] as unknown as Schema.Schema<Problem, unknown>)(problem)
  }
}

/** The body of an answer to a request that failed in a way no declared error covers (a 500). */
export const internalErrorBody = { error: "Internal", reason: "unexpected server error" } as const
