import { Config, Duration, Effect, Either, ParseResult } from "effect"
import { productEventsTopic } from "../domain/Consumers.js"
import type { Claims } from "../domain/HttpApi.js"
import type { EventIssue } from "../domain/HttpErrors.js"
import { encodedProductEvent, type ProductEvent } from "../domain/ProductEvent.js"
import { decodeProductEventFast } from "../domain/ProductEventFast.js"
import * as CircuitBreaker from "../services/CircuitBreaker.js"
import { acknowledgedWithin, EventLog, type OutgoingMessage } from "../services/EventLog.js"
import { Metrics } from "../services/Metrics.js"
import * as RateLimiter from "../services/RateLimiter.js"
import { positiveInteger } from "../services/Settings.js"
import { authorizePublisher } from "./Auth.js"
import { BadRequest, dependencyDown, type Forbidden, TooManyRequests, Unavailable } from "./Problem.js"

const pathString = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")

/** An event of a valid batch with its canonical JSON, encoded once: compared for duplicates, then published. */
interface ValidEvent {
  readonly event: ProductEvent
  readonly json: string
}

/** Decodes every event of a batch; all of them valid, or one error per issue of each invalid one. */
const validateBatch = (items: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<ValidEvent>, ReadonlyArray<EventIssue>> => {
  const events: Array<ValidEvent> = []
  const errors: Array<EventIssue> = []
  const seen = new Map<string, string>()
  for (let index = 0; index < items.length; index++) {
    const item = items[index]
    const result = decodeProductEventFast(item)
    if (Either.isLeft(result)) {
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(result.left)) {
        errors.push({ index, path: pathString(issue.path), message: issue.message })
      }
      continue
    }
    const event = result.right
    const json = JSON.stringify(encodedProductEvent(event))
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

/** Publishing tokens whose buckets are remembered; beyond that, the least recently used is dropped. */
const rateLimitedTokens = 10_000

/** The token the API's bearer security verified: the Authorization header after `Bearer ` (its first 7 characters). */
export const bearerToken = (authorization: string | undefined): string => (authorization ?? "").slice("Bearer ".length)

/** `POST /events` for a caller whose token verified, however the request is served (router or `EventsRoute`). */
export interface Publisher {
  readonly maxBodyBytes: number
  /** Validates `body` (one event or an array) and publishes all of it, or nothing: the accepted eventIds in order. */
  readonly publish: (
    claims: Claims,
    token: string,
    body: unknown
  ) => Effect.Effect<ReadonlyArray<string>, BadRequest | Forbidden | TooManyRequests | Unavailable>
}

/** The gateway's publisher, configured by `GATEWAY_*` (see README). */
export const makePublisher = Effect.gen(function*() {
  const log = yield* EventLog
  const metrics = yield* Metrics
  const maxBodyBytes = yield* positiveInteger("GATEWAY_MAX_BODY_BYTES", 1024 * 1024)
  const produceTimeout = yield* Config.duration("GATEWAY_PRODUCE_TIMEOUT").pipe(Config.withDefault(Duration.seconds(1)))
  // Fail fast while Kafka is unreachable: clients get 503 at once instead of piling up on a dead broker.
  const breaker = yield* CircuitBreaker.make({
    failureThreshold: yield* positiveInteger("GATEWAY_BREAKER_THRESHOLD", 3),
    resetAfter: yield* Config.duration("GATEWAY_BREAKER_RESET").pipe(Config.withDefault(Duration.seconds(1)))
  })
  // Events per second per publishing token, a second's worth in a burst. Keyed by the token itself (verified
  // by then, so a forged one never gets a bucket) rather than by its claims: service tokens name no seller,
  // and each credential handed to a producer gets a budget of its own, whoever else holds the same claims.
  const eventsPerSecond = yield* positiveInteger("GATEWAY_RATE_LIMIT", 5000)
  const limiter = RateLimiter.make({ ratePerSecond: eventsPerSecond, burst: eventsPerSecond, maxKeys: rateLimitedTokens })

  // 202 only once Kafka acknowledged every event (acks=all). `produceTimeout` is the produce's one deadline
  // (the event log sets none): it interrupts the produce, which leaves the Kafka layer's send queue if it is
  // still waiting there. One already sent may still be delivered by kafkajs: the 503 asks for a retry,
  // and consumers apply a repeat once by eventId.
  const produce = (messages: ReadonlyArray<OutgoingMessage>) =>
    breaker.protect(
      log.produce(productEventsTopic, messages).pipe(acknowledgedWithin(produceTimeout))
    ).pipe(
      Effect.catchTags({
        EventLogError: (e) => dependencyDown(e),
        // Open: nothing was published; retry once the broker may be back.
        BreakerOpen: (e) =>
          new Unavailable({
            reason: "the event log is unreachable; nothing was published, retry later",
            retryAfterSeconds: Math.max(1, Math.ceil(Duration.toSeconds(e.retryAfter)))
          })
      })
    )

  const rateLimited = (e: RateLimiter.RateLimited) => {
    metrics.gatewayRateLimited.inc()
    return new TooManyRequests({
      reason: `this token may publish ${eventsPerSecond} events per second; nothing was published, retry later`,
      retryAfterSeconds: e.retryAfterSeconds
    })
  }

  /**
   * A valid batch as it goes to Kafka, and what is left to do once it is acknowledged: the events
   * themselves are not kept past this (nor the parsed body), so that a batch waiting for its
   * acknowledgement holds only its messages.
   */
  const prepare = (claims: Claims, items: ReadonlyArray<unknown>): Effect.Effect<
    { readonly messages: ReadonlyArray<OutgoingMessage>; readonly accepted: ReadonlyArray<string>; readonly published: Map<string, number> },
    BadRequest | Forbidden
  > => {
    const validated = validateBatch(items)
    if (Either.isLeft(validated)) {
      metrics.rejected.inc(new Set(validated.left.map((e) => e.index)).size)
      return Effect.fail(new BadRequest({ reason: "invalid events: nothing was published", errors: validated.left }))
    }
    const messages: Array<OutgoingMessage> = []
    const sellerIds: Array<string> = []
    const accepted: Array<string> = []
    const published = new Map<string, number>()
    for (const { event, json } of validated.right) {
      messages.push({
        key: event.data.sellerId,
        // Small strings are encoded into Node's shared pool: no buffer of its own per event.
        value: Buffer.from(json),
        headers: { eventType: event.eventType, eventId: event.eventId }
      })
      sellerIds.push(event.data.sellerId)
      accepted.push(event.eventId)
      published.set(event.eventType, (published.get(event.eventType) ?? 0) + 1)
    }
    return Effect.as(authorizePublisher(claims, sellerIds), { messages, accepted, published })
  }

  const publish: Publisher["publish"] = (claims, token, body) => {
    const items = Array.isArray(body) ? body : [body]
    if (items.length === 0) return Effect.fail(new BadRequest({ reason: "the batch is empty" }))
    // Before validation: an invalid batch costs the server too. Nothing is published when refused.
    return limiter.take(token, items.length).pipe(
      Effect.catchTag("RateLimited", rateLimited),
      Effect.flatMap(() => prepare(claims, items)),
      Effect.flatMap(({ accepted, messages, published }) =>
        Effect.map(produce(messages), () => {
          for (const [eventType, count] of published) metrics.published.inc({ event_type: eventType }, count)
          return accepted
        })
      ),
      Effect.withSpan("Gateway.publish", { captureStackTrace: false })
    )
  }

  return { maxBodyBytes, publish } satisfies Publisher
})
