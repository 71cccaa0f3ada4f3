/**
 * A service program exactly as `src/programs/<name>.ts` composes it, on the live stack, with its
 * event log isolated to the bench's topic and groups (BENCH_TOPIC, BENCH_GROUP_PREFIX):
 *
 *   BENCH_TOPIC=t PORT=3101 tsx bench/support/program.ts gateway|notification|analytics
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AnalyticsConsumer } from "../../src/app/Analytics.js"
import { serveApi } from "../../src/app/Http.js"
import { Infra, LiveByDefault } from "../../src/app/Infra.js"
import { NotificationConsumer } from "../../src/app/Notification.js"
import { AnalyticsApi, GatewayApi, NotificationApi } from "../../src/domain/HttpApi.js"
import { EventsLive } from "../../src/http/Gateway.js"
import { listen } from "../../src/http/HttpLive.js"
import { NotificationsLive } from "../../src/http/Notifications.js"
import { MetricsLive } from "../../src/http/SellerMetricsRoute.js"
import { Metrics } from "../../src/services/Metrics.js"
import { NotificationHub } from "../../src/services/NotificationHub.js"
import { isolatedFromEnv } from "./isolated.js"

/** As the programs' infrastructure, with the event log isolated (the bench creates its topic). */
const Common = Layer.merge(isolatedFromEnv().pipe(Layer.provide(Infra.eventLog)), Metrics.Default)

const programs = {
  gateway: () => serveApi(GatewayApi, EventsLive).pipe(Layer.provide(Common)),
  notification: () =>
    Layer.mergeAll(serveApi(NotificationApi, NotificationsLive).pipe(Layer.provide(NotificationHub.Default)), NotificationConsumer).pipe(
      Layer.provideMerge(Layer.mergeAll(Common, Infra.notificationStore, Infra.pubSub))
    ),
  analytics: () =>
    Layer.mergeAll(serveApi(AnalyticsApi, MetricsLive), AnalyticsConsumer).pipe(
      Layer.provideMerge(Layer.mergeAll(Common, Infra.objectStore, Infra.metricsStore))
    )
} as const

const name = process.argv[2] as keyof typeof programs
if (!(name in programs)) throw new Error(`usage: program.ts ${Object.keys(programs).join("|")}`)

NodeRuntime.runMain(
  Layer.launch((programs[name]() as unknown as Layer.Layer<never, unknown, never>).pipe(Layer.provide(listen), Layer.provide(LiveByDefault))).pipe(
    Effect.asVoid
  )
)
