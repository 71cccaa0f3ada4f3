import { Headers, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Config, Duration, Effect, Either, Option, ParseResult } from "effect"
import { productEventsTopic } from "../domain/Consumers.js"
import { encodeProductEvent, type ProductEvent } from "../domain/ProductEvent.js"
import { decodeProductEventFast, validProductEvent } from "../domain/ProductEventFast.js"
import * as CircuitBreaker from "../services/CircuitBreaker.js"
import { EventLog, EventLogError } from "../services/EventLog.js"
import { Metrics } from "../services/Metrics.js"
import { Auth, authorizePublisher } from "./Auth.js"
import { BadRequest, PayloadTooLarge, problemResponse, unavailable } from "./Problem.js"

export interface EventError {
  readonly index: number
  readonly path: string
  readonly message: string
}

const pathString = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")

/** An event of a valid batch with its canonical JSON, encoded once: compared for duplicates, then published. */
interface ValidEvent {
  readonly event: ProductEvent
  readonly json: string
}

/** Decodes every event of a batch; all of them valid, or one error per issue of each invalid one. */
export const validateBatch = (items: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<ValidEvent>, ReadonlyArray<EventError>> => {
  const events: Array<ValidEvent> = []
  const errors: Array<EventError> = []
  const seen = new Map<string, string>()
  for (const [index, item] of items.entries()) {
    // The fast check's event is, field for field and in order, what the schema would decode and encode.
    const fast = validProductEvent(item)
    const result = fast === undefined ? decodeProductEventFast(item) : Either.right(fast)
    if (Either.isLeft(result)) {
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(result.left)) {
        errors.push({ index, path: pathString(issue.path), message: issue.message })
      }
      continue
    }
    const event = result.right
    const json = JSON.stringify(fast ?? encodeProductEvent(event))
    const previous = seen.get(event.eventId)
    if (previous !== undefined && previous !== json) {
      errors.push({ index, path: "eventId", message: "another event of this batch has the same eventId and different content" })
      continue
    }
    seen.set(event.eventId, json)
    events.push({ event, json })
  }
  return errors.length > 0 ? Either.left(errors) : Either.right(events)
}

const encoder = new TextEncoder()

/** 503 while the breaker is open: nothing was published; retry once the broker may be back. */
const breakerOpen = (error: CircuitBreaker.BreakerOpen) =>
  Effect.succeed(HttpServerResponse.unsafeJson(
    { error: "Unavailable", reason: "the event log is unreachable; nothing was published, retry later" },
    { status: 503, headers: { "retry-after": String(Math.max(1, Math.ceil(Duration.toSeconds(error.retryAfter)))) } }
  ))

/** `POST /events`: validate all, publish all keyed by sellerId, or publish nothing. */
export const gatewayRouter = Effect.gen(function*() {
  const log = yield* EventLog
  const auth = yield* Auth
  const metrics = yield* Metrics
  const maxBodyBytes = yield* Config.integer("GATEWAY_MAX_BODY_BYTES").pipe(Config.withDefault(1024 * 1024))
  const produceTimeout = yield* Config.duration("GATEWAY_PRODUCE_TIMEOUT").pipe(Config.withDefault(Duration.seconds(1)))
  // Fail fast while Kafka is unreachable: clients get 503 at once instead of piling up on a dead broker.
  const breaker = yield* CircuitBreaker.make({
    failureThreshold: yield* Config.integer("GATEWAY_BREAKER_THRESHOLD").pipe(Config.withDefault(3)),
    resetAfter: yield* Config.duration("GATEWAY_BREAKER_RESET").pipe(Config.withDefault(Duration.seconds(1)))
  })

  const readBody = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const declared = Number(Option.getOrElse(Headers.get(request.headers, "content-length"), () => "0"))
    const tooLarge = new PayloadTooLarge({ reason: `request body exceeds ${maxBodyBytes} bytes` })
    if (declared > maxBodyBytes) return yield* tooLarge
    const text = yield* request.text.pipe(
      HttpServerRequest.withMaxBodySize(Option.some(maxBodyBytes)),
      Effect.mapError((e) =>
        String((e.cause as Error | undefined)?.message).includes("maxBytes")
          ? tooLarge
          : new BadRequest({ reason: "could not read the request body" })
      )
    )
    return yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) => new BadRequest({ reason: `body is not JSON: ${(e as Error).message}` })
    })
  })

  const publish = Effect.fn("Gateway.publish")(function*() {
    const claims = yield* auth.authenticate()
    const body = yield* readBody
    const items = Array.isArray(body) ? body : [body]
    if (items.length === 0) return yield* new BadRequest({ reason: "the batch is empty" })
    const validated = validateBatch(items)
    if (Either.isLeft(validated)) {
      metrics.rejected.inc(new Set(validated.left.map((e) => e.index)).size)
      return yield* new BadRequest({ reason: "invalid events: nothing was published", errors: validated.left })
    }
    const valid = validated.right
    yield* authorizePublisher(claims, valid.map(({ event }) => event.data.sellerId))
    // 202 only once Kafka acknowledged every event (acks=all). A produce that times out may still be
    // delivered by the client: the 503 asks for a retry, and consumers apply a repeat once by eventId.
    yield* breaker.protect(
      log.produce(
        productEventsTopic,
        valid.map(({ event, json }) => ({
          key: event.data.sellerId,
          value: encoder.encode(json),
          headers: { eventType: event.eventType, eventId: event.eventId }
        }))
      ).pipe(
        Effect.timeoutFail({
          duration: produceTimeout,
          onTimeout: () => new EventLogError({ operation: "produce", cause: `not acknowledged within ${Duration.format(produceTimeout)}` })
        })
      )
    )
    const published = new Map<string, number>()
    for (const { event } of valid) published.set(event.eventType, (published.get(event.eventType) ?? 0) + 1)
    for (const [eventType, count] of published) metrics.published.inc({ event_type: eventType }, count)
    return HttpServerResponse.unsafeJson({ accepted: valid.map(({ event }) => event.eventId) }, { status: 202 })
  })

  return HttpRouter.empty.pipe(
    HttpRouter.post(
      "/events",
      publish().pipe(
        Effect.catchTags({
          BadRequest: problemResponse,
          PayloadTooLarge: problemResponse,
          Unauthorized: problemResponse,
          Forbidden: problemResponse,
          EventLogError: unavailable,
          BreakerOpen: breakerOpen
        })
      )
    )
  )
})
