import { Layer } from "effect"
import * as EventLogKafka from "../../src/layers/EventLogKafka.js"

export const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")

/** The Kafka event log for tests; an unreachable broker fails with what to do about it. */
export const kafkaLayer = (options: Partial<EventLogKafka.Options> = {}) =>
  EventLogKafka.layer({ brokers, clientId: "product-events-test", ...options }).pipe(
    Layer.mapError((e) =>
      new Error(`Kafka at ${brokers.join(",")} is not reachable: start it with \`npm run infra:up\` (${String(e.cause)})`)
    )
  )
