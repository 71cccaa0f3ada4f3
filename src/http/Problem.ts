import { HttpServerResponse } from "@effect/platform"
import { Effect, type ParseResult, Schema } from "effect"
import { formatParseError } from "../domain/ParseErrors.js"

/** 401: no credentials, or credentials that do not verify. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", { reason: Schema.String }) {}

/** 403: valid credentials for someone else's data. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", { reason: Schema.String }) {}

/** 400: the request itself is malformed. */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  reason: Schema.String,
  errors: Schema.optional(Schema.Array(Schema.Unknown))
}) {}

/** 400 for a query string that does not decode, naming each parameter: `invalid query: limit: must be …`. */
export const invalidQuery = (error: ParseResult.ParseError) => new BadRequest({ reason: `invalid query: ${formatParseError(error)}` })

/** 413: the body exceeds the configured limit. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  reason: Schema.String
}) {}

export type Problem = Unauthorized | Forbidden | BadRequest | PayloadTooLarge

const statusOf = { Unauthorized: 401, Forbidden: 403, BadRequest: 400, PayloadTooLarge: 413 } as const

/** Every client error becomes a JSON body `{ error, reason, errors? }` with its status. */
export const problemResponse = (problem: Problem): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.succeed(HttpServerResponse.unsafeJson(
    { error: problem._tag, reason: problem.reason, ...("errors" in problem && problem.errors ? { errors: problem.errors } : {}) },
    {
      status: statusOf[problem._tag],
      ...(problem._tag === "Unauthorized" ? { headers: { "www-authenticate": 'Bearer realm="product-events"' } } : {})
    }
  ))

/** 503: a dependency is down. Not the client's fault, and nothing was lost: retry later. */
export const unavailable = (error: { readonly _tag: string; readonly cause?: unknown }) =>
  Effect.logError(`dependency unavailable: ${error._tag}`, error.cause).pipe(
    Effect.as(HttpServerResponse.unsafeJson(
      { error: "Unavailable", reason: "a dependency is unavailable; retry later" },
      { status: 503, headers: { "retry-after": "5" } }
    ))
  )
