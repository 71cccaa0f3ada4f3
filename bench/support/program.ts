/**
 * A service program exactly as `src/programs/<name>.ts` composes it, on the live stack, with its
 * event log isolated to the bench's topic and groups (BENCH_TOPIC, BENCH_GROUP_PREFIX):
 *
 *   BENCH_TOPIC=t PORT=3101 tsx bench/support/program.ts gateway|notification|analytics
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AnalyticsConsumer, AnalyticsHttp } from "../../src/app/Analytics.js"
import { serveWithHealth } from "../../src/app/Http.js"
import {
  EventLogInfra,
  LiveByDefault,
  MetricsStoreInfra,
  NotificationStoreInfra,
  ObjectStoreInfra,
  PubSubInfra,
  TopicsLive
} from "../../src/app/Infra.js"
import { NotificationConsumer, NotificationHttp } from "../../src/app/Notification.js"
import { Auth } from "../../src/http/Auth.js"
import { gatewayRouter } from "../../src/http/Gateway.js"
import { listen } from "../../src/http/HttpLive.js"
import { Metrics } from "../../src/services/Metrics.js"
import { AnalyticsWorkers } from "../../src/workers/AnalyticsWorkers.js"
import { isolatedFromEnv } from "./isolated.js"

const EventLogBench = isolatedFromEnv().pipe(Layer.provide(EventLogInfra))

const programs = {
  gateway: () =>
    serveWithHealth(gatewayRouter).pipe(
      Layer.provide(Auth.Default),
      Layer.provide(TopicsLive),
      Layer.provide(Layer.mergeAll(EventLogBench, Metrics.Default))
    ),
  notification: () =>
    Layer.mergeAll(serveWithHealth(NotificationHttp), NotificationConsumer).pipe(
      Layer.provide(TopicsLive),
      Layer.provideMerge(Layer.mergeAll(EventLogBench, NotificationStoreInfra, PubSubInfra, Metrics.Default))
    ),
  analytics: () =>
    Layer.mergeAll(serveWithHealth(AnalyticsHttp), AnalyticsConsumer).pipe(
      Layer.provide(TopicsLive),
      Layer.provide(AnalyticsWorkers.layer),
      Layer.provideMerge(Layer.mergeAll(EventLogBench, MetricsStoreInfra, ObjectStoreInfra, Metrics.Default))
    )
} as const

const name = process.argv[2] as keyof typeof programs
if (!(name in programs)) throw new Error(`usage: program.ts ${Object.keys(programs).join("|")}`)

NodeRuntime.runMain(
  Layer.launch((programs[name]() as Layer.Layer<never, unknown, never>).pipe(Layer.provide(listen), Layer.provide(LiveByDefault))).pipe(
    Effect.asVoid
  )
)
