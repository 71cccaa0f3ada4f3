import { Effect, Layer } from "effect"
import { consumers, deadLetterTopic, productEventsTopic } from "../domain/Consumers.js"
import * as EventLogMemory from "../layers/EventLogMemory.js"
import * as MetricsStoreMemory from "../layers/MetricsStoreMemory.js"
import * as NotificationStoreMemory from "../layers/NotificationStoreMemory.js"
import * as ObjectStoreMemory from "../layers/ObjectStoreMemory.js"
import * as PubSubMemory from "../layers/PubSubMemory.js"
import { EventLog } from "../services/EventLog.js"
import { Metrics } from "../services/Metrics.js"

export const productEventsPartitions = 12

/** Every piece of infrastructure, in memory: the embedded stack behind `npm start`. */
export const InfraMemory = Layer.mergeAll(
  EventLogMemory.layerMemory({ partitions: productEventsPartitions }),
  NotificationStoreMemory.layerMemory,
  PubSubMemory.layerMemory,
  ObjectStoreMemory.layerMemory,
  MetricsStoreMemory.layerMemory,
  Metrics.Default
)

/** The topics the services use, created when missing. */
export const TopicsLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const log = yield* EventLog
    yield* log.ensureTopic(productEventsTopic, productEventsPartitions)
    for (const { group } of consumers) yield* log.ensureTopic(deadLetterTopic(group), productEventsPartitions)
  })
)
