import { HttpApiError, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { BadRequest, isProblem, type Problem, problemParts, Unavailable } from "../domain/HttpErrors.js"

export * from "../domain/HttpErrors.js"

/** A problem as the response its declaration gives it: the one mapping from error to response. */
export const problemResponse = (problem: Problem): HttpServerResponse.HttpServerResponse => {
  const { body, headers, status } = problemParts(problem)
  return HttpServerResponse.unsafeJson(body, { status, headers })
}

/** A path or query that does not decode: 400 naming each parameter (`invalid query: limit: must be …`). */
export const fromDecodeError = (error: HttpApiError.HttpApiDecodeError): BadRequest => {
  const inPath = error.issues.some((issue) => issue.path[0] === "sellerId")
  const detail = error.issues
    .map((issue) => `${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${issue.message}`)
    .join("; ")
  return new BadRequest({ reason: `invalid ${inPath ? "path" : "query"}: ${detail}` })
}

/** The failures of a request that have a declared answer, as that answer; anything else is left alone. */
export const answerFailure = (error: unknown): HttpServerResponse.HttpServerResponse | undefined =>
  isProblem(error)
    ? problemResponse(error)
    : error instanceof HttpApiError.HttpApiDecodeError
    ? problemResponse(fromDecodeError(error))
    : undefined

/**
 * An infrastructure failure (the event log, a store, pub/sub) is a 503: logged with its cause, and
 * answered with nothing of it. Every handler goes through this one function.
 */
export const dependencyDown = (error: { readonly _tag: string; readonly cause?: unknown }, retryAfterSeconds = 5) =>
  Effect.logError(`dependency unavailable: ${error._tag}`, error.cause).pipe(
    Effect.zipRight(Effect.fail(new Unavailable({ reason: "a dependency is unavailable; retry later", retryAfterSeconds })))
  )
