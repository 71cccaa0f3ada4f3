import { Duration, Schedule, Schema } from "effect"
import { EventType } from "./ProductEvent.js"

export const productEventsTopic = "product-events"

/**
 * Topic layout of `product-events` in production: the services create it with this many partitions
 * (a local single broker runs with 1 replica), and the in-memory event log has as many.
 */
export const productEventsTopicLayout = { partitions: 12, replicas: 3 } as const

export const ConsumerGroup = Schema.Literal("notification-service", "analytics-service")
export type ConsumerGroup = typeof ConsumerGroup.Type

export const deadLetterTopic = (group: ConsumerGroup): string => `${productEventsTopic}.dlq.${group}`

/**
 * Retry policy of a consumer: `maxRetries` retries after the first attempt, delays growing
 * `initialDelayMillis * factor^n`, each multiplied by a random jitter in [1 - jitter, 1 + jitter]
 * and then capped at `maxDelayMillis`.
 */
export const RetryPolicy = Schema.Struct({
  maxRetries: Schema.Int.pipe(Schema.nonNegative()),
  initialDelayMillis: Schema.Int.pipe(Schema.positive()),
  factor: Schema.Number.pipe(Schema.greaterThanOrEqualTo(1)),
  maxDelayMillis: Schema.Int.pipe(Schema.positive()),
  jitter: Schema.Number.pipe(Schema.between(0, 1))
})
export type RetryPolicy = typeof RetryPolicy.Type

export interface ConsumerContract {
  readonly group: ConsumerGroup
  readonly description: string
  readonly subscribes: ReadonlyArray<EventType>
  readonly retry: RetryPolicy
}

export const notificationService: ConsumerContract = {
  group: "notification-service",
  description: "Turns every event into a seller notification: stored in DynamoDB, published on Redis, streamed over SSE.",
  subscribes: ["ProductCreated", "ProductUpdated", "ProductDeleted", "LowStockWarning"],
  retry: { maxRetries: 5, initialDelayMillis: 500, factor: 2, maxDelayMillis: 30_000, jitter: 0.2 }
}

export const analyticsService: ConsumerContract = {
  group: "analytics-service",
  description: "Aggregates lifecycle events into per-seller metrics (DynamoDB) and archives raw events (S3).",
  subscribes: ["ProductCreated", "ProductUpdated", "ProductDeleted"],
  retry: { maxRetries: 10, initialDelayMillis: 2_000, factor: 2, maxDelayMillis: 300_000, jitter: 0.2 }
}

/** The consumer matrix: who consumes what. The services read their subscriptions from here. */
export const consumers: ReadonlyArray<ConsumerContract> = [notificationService, analyticsService]

export const subscribes = (consumer: ConsumerContract, eventType: string): boolean =>
  (consumer.subscribes as ReadonlyArray<string>).includes(eventType)

/** The nominal delays (before jitter) of every retry, in milliseconds. */
export const nominalDelays = (policy: RetryPolicy): ReadonlyArray<number> =>
  Array.from({ length: policy.maxRetries }, (_, n) =>
    Math.min(policy.initialDelayMillis * policy.factor ** n, policy.maxDelayMillis))

/** The schedule a consumer retries by: exponential, jittered, capped, bounded. */
export const retrySchedule = (policy: RetryPolicy): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(Duration.millis(policy.initialDelayMillis), policy.factor).pipe(
    Schedule.jitteredWith({ min: 1 - policy.jitter, max: 1 + policy.jitter }),
    Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.millis(policy.maxDelayMillis))),
    Schedule.intersect(Schedule.recurs(policy.maxRetries))
  )
