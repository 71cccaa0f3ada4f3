import { Effect, Layer } from "effect"
import { productEventsTopic } from "../../src/domain/Consumers.js"
import * as EventLogKafka from "../../src/layers/EventLogKafka.js"
import { EventLog } from "../../src/services/EventLog.js"

export const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")

/** The Kafka event log for tests; an unreachable broker fails with what to do about it. */
export const kafkaLayer = (options: Partial<EventLogKafka.Options> = {}) =>
  EventLogKafka.layer({ brokers, clientId: "product-events-test", ...options }).pipe(
    Layer.mapError((e) =>
      new Error(`Kafka at ${brokers.join(",")} is not reachable: start it with \`npm run infra:up\` (${String(e.cause)})`)
    )
  )

/**
 * The surrounding EventLog with `product-events` read and written as `topic` instead: the consumer
 * engine, which always consumes `product-events`, then runs on a topic of the test's own.
 */
export const withProductEventsAs = (topic: string) =>
  Layer.effect(
    EventLog,
    Effect.map(EventLog, (log) => {
      const rename = (name: string) => (name === productEventsTopic ? topic : name)
      return EventLog.of({
        ...log,
        produce: (name, messages) => log.produce(rename(name), messages),
        subscribe: (options) => log.subscribe({ ...options, topics: options.topics.map(rename) }),
        committed: (group, name) => log.committed(group, rename(name)),
        startOffsets: (name) => log.startOffsets(rename(name)),
        endOffsets: (name) => log.endOffsets(rename(name)),
        ensureTopic: (name, partitions) => log.ensureTopic(rename(name), partitions)
      })
    })
  )

/** Polls `check` every 100 ms until `done` holds; fails naming `what` after `seconds`. */
export const waitFor = <A, E, R>(what: string, check: Effect.Effect<A, E, R>, done: (a: A) => boolean, seconds = 20) => {
  const poll: Effect.Effect<A, E, R> = Effect.flatMap(check, (a) =>
    done(a) ? Effect.succeed(a) : Effect.zipRight(Effect.sleep("100 millis"), poll))
  return poll.pipe(
    Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new Error(`timed out waiting for ${what}`) })
  )
}
