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
