import { Config, Context, Effect, Layer, Option, Schedule } from "effect"
import { consumers, deadLetterTopic, productEventsTopic, productEventsTopicLayout } from "../domain/Consumers.js"
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

/** Every piece of infrastructure in this process: nothing to install. */
export const InfraMemory = {
  eventLog: EventLogMemory.layerMemory(),
  notificationStore: NotificationStoreMemory.layerMemory,
  pubSub: PubSubMemory.layerMemory,
  objectStore: ObjectStoreMemory.layerMemory,
  metricsStore: MetricsStoreMemory.layerMemory
}

/** Every piece of infrastructure on its server: Kafka, DynamoDB, Redis and S3, configured by env (see README). */
export const InfraLive = {
  // Each counts in the process's Metrics (its client's consumer restarts, DynamoDB write requests): the same
  // instance, as layers are shared by reference.
  eventLog: EventLogKafka.layerConfig.pipe(Layer.provide(Metrics.Default)),
  notificationStore: NotificationStoreDynamo.layerConfig.pipe(Layer.provide(Metrics.Default)),
  pubSub: PubSubRedis.layerConfig,
  objectStore: ObjectStoreS3.layerConfig,
  metricsStore: MetricsStoreDynamo.layerConfig.pipe(Layer.provide(Metrics.Default))
}

type InfraKind = "memory" | "live"

/** What `INFRA` is when unset: `memory` (the embedded program), `live` for the service processes. */
class DefaultInfra extends Context.Reference<DefaultInfra>()("product-events/DefaultInfra", {
  defaultValue: (): InfraKind => "memory"
}) {}

/** `INFRA`, read and checked once per program (a wrong value is one error naming the variable). */
class ChosenInfra extends Context.Tag("product-events/ChosenInfra")<ChosenInfra, InfraKind>() {}
const ChosenInfraLive = Layer.effect(
  ChosenInfra,
  Config.literal("memory", "live")("INFRA").pipe(
    Config.option,
    Effect.flatMap(Option.match({ onNone: () => DefaultInfra, onSome: Effect.succeed }))
  )
)

const choose = <A, E1, E2>(memory: Layer.Layer<A, E1>, live: Layer.Layer<A, E2>) =>
  Layer.unwrapEffect(Effect.map(ChosenInfra, (kind) => (kind === "live" ? live : memory) as Layer.Layer<A, E1 | E2>))

const chosen = {
  eventLog: choose(InfraMemory.eventLog, InfraLive.eventLog),
  notificationStore: choose(InfraMemory.notificationStore, InfraLive.notificationStore),
  pubSub: choose(InfraMemory.pubSub, InfraLive.pubSub),
  objectStore: choose(InfraMemory.objectStore, InfraLive.objectStore),
  metricsStore: choose(InfraMemory.metricsStore, InfraLive.metricsStore)
}

/** Each piece in memory or live, as `INFRA` says. */
export const Infra = {
  eventLog: chosen.eventLog.pipe(Layer.provide(ChosenInfraLive)),
  notificationStore: chosen.notificationStore.pipe(Layer.provide(ChosenInfraLive)),
  pubSub: chosen.pubSub.pipe(Layer.provide(ChosenInfraLive)),
  objectStore: chosen.objectStore.pipe(Layer.provide(ChosenInfraLive)),
  metricsStore: chosen.metricsStore.pipe(Layer.provide(ChosenInfraLive))
}

/**
 * The topics the services use, created when missing. Several processes may race to create them
 * (the broker then briefly reports partitions it does not host yet): a few retries settle it.
 */
const Topics = Layer.effectDiscard(
  Effect.gen(function*() {
    const log = yield* EventLog
    const ensure = (topic: string) =>
      log.ensureTopic(topic, productEventsTopicLayout.partitions).pipe(
        Effect.retry(Schedule.exponential("250 millis").pipe(Schedule.intersect(Schedule.recurs(6))))
      )
    yield* ensure(productEventsTopic)
    for (const { group } of consumers) yield* ensure(deadLetterTopic(group))
  })
)

/**
 * What each program runs on: the event log with its topics created, the process's metrics, and the
 * pieces its services use; each piece in memory or live by `INFRA`. A process builds (and `/readyz`
 * checks) only its own pieces; the embedded program builds each once.
 */
const CommonInfra = Layer.merge(Layer.provideMerge(Topics, chosen.eventLog), Metrics.Default)
const NotificationPieces = Layer.mergeAll(CommonInfra, chosen.notificationStore, chosen.pubSub)
const AnalyticsPieces = Layer.mergeAll(CommonInfra, chosen.objectStore, chosen.metricsStore)
// INFRA is read first, once: a wrong value is one error, not one per piece.
export const GatewayInfra = CommonInfra.pipe(Layer.provide(ChosenInfraLive))
export const NotificationInfra = NotificationPieces.pipe(Layer.provide(ChosenInfraLive))
export const AnalyticsInfra = AnalyticsPieces.pipe(Layer.provide(ChosenInfraLive))
export const EmbeddedInfra = Layer.mergeAll(NotificationPieces, AnalyticsPieces).pipe(Layer.provide(ChosenInfraLive))

/** For the separate service processes: live infrastructure unless `INFRA` says otherwise. */
export const LiveByDefault = Layer.succeed(DefaultInfra, "live")
