import { Config, ConfigProvider, Effect, Layer, Schedule } from "effect"
import { consumers, deadLetterTopic, productEventsTopic } from "../domain/Consumers.js"
import * as EventLogKafka from "../layers/EventLogKafka.js"
import * as EventLogMemory from "../layers/EventLogMemory.js"
import * as MetricsStoreDynamo from "../layers/MetricsStoreDynamo.js"
import * as MetricsStoreMemory from "../layers/MetricsStoreMemory.js"
import * as NotificationStoreDynamo from "../layers/NotificationStoreDynamo.js"
import * as NotificationStoreMemory from "../layers/NotificationStoreMemory.js"
import * as ObjectStoreMemory from "../layers/ObjectStoreMemory.js"
import * as ObjectStoreS3 from "../layers/ObjectStoreS3.js"
import * as PubSubMemory from "../layers/PubSubMemory.js"
import * as PubSubRedis from "../layers/PubSubRedis.js"
import { EventLog } from "../services/EventLog.js"
import { Metrics } from "../services/Metrics.js"

export const productEventsPartitions = 12

/**
 * `INFRA=memory` (the default): everything in this process, nothing to install.
 * `INFRA=live`: Kafka, DynamoDB, Redis and S3, configured by their env variables (see README).
 */
const InfraKind = Config.literal("memory", "live")("INFRA").pipe(Config.withDefault("memory" as const))

const choose = <A, E1, E2>(memory: Layer.Layer<A, E1>, live: Layer.Layer<A, E2>) =>
  Layer.unwrapEffect(Effect.map(InfraKind, (kind) => (kind === "live" ? live : memory) as Layer.Layer<A, E1 | E2>))

/** The Kafka layer counts its client's consumer restarts in the program's Metrics (the same instance: layers are shared by reference). */
export const EventLogInfra = choose(
  EventLogMemory.layerMemory(),
  EventLogKafka.layerConfig.pipe(Layer.provide(Metrics.Default))
)
export const NotificationStoreInfra = choose(NotificationStoreMemory.layerMemory, NotificationStoreDynamo.layerConfig)
export const PubSubInfra = choose(PubSubMemory.layerMemory, PubSubRedis.layerConfig)
export const ObjectStoreInfra = choose(ObjectStoreMemory.layerMemory, ObjectStoreS3.layerConfig)
export const MetricsStoreInfra = choose(MetricsStoreMemory.layerMemory, MetricsStoreDynamo.layerConfig)

/**
 * The topics the services use, created when missing. Several processes may race to create them
 * (the broker then briefly reports partitions it does not host yet): a few retries settle it.
 */
export const TopicsLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const log = yield* EventLog
    const ensure = (topic: string) =>
      log.ensureTopic(topic, productEventsPartitions).pipe(
        Effect.retry(Schedule.exponential("250 millis").pipe(Schedule.intersect(Schedule.recurs(6))))
      )
    yield* ensure(productEventsTopic)
    for (const { group } of consumers) yield* ensure(deadLetterTopic(group))
  })
)

/** For the separate service processes: live infrastructure unless `INFRA` says otherwise. */
export const LiveByDefault = Layer.setConfigProvider(
  ConfigProvider.fromEnv().pipe(ConfigProvider.orElse(() => ConfigProvider.fromMap(new Map([["INFRA", "live"]]))))
)
