import { HttpRouter } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Auth } from "../http/Auth.js"
import { gatewayRouter } from "../http/Gateway.js"
import { Metrics } from "../services/Metrics.js"
import { NotificationHub } from "../services/NotificationHub.js"
import { serveWithHealth } from "./Http.js"
import {
  EventLogInfra,
  MetricsStoreInfra,
  NotificationStoreInfra,
  ObjectStoreInfra,
  PubSubInfra,
  TopicsLive
} from "./Infra.js"
import { NotificationConsumer, NotificationHttp } from "./Notification.js"
import { AnalyticsConsumer, AnalyticsHttp } from "./Analytics.js"
import { AnalyticsWorkers } from "../workers/AnalyticsWorkers.js"

const Http = serveWithHealth(Effect.gen(function*() {
  return HttpRouter.concatAll(yield* gatewayRouter, yield* NotificationHttp, yield* AnalyticsHttp)
})).pipe(Layer.provide(Layer.merge(Auth.Default, NotificationHub.Default)))

/**
 * The whole system in one process (on the in-memory stack unless `INFRA=live`): the ingest gateway,
 * notification-service and analytics-service behind one HTTP server. Needs a listener.
 */
export const EmbeddedLive = Layer.mergeAll(Http, NotificationConsumer, AnalyticsConsumer).pipe(
  Layer.provide(TopicsLive),
  Layer.provide(AnalyticsWorkers.layer),
  Layer.provideMerge(
    Layer.mergeAll(EventLogInfra, NotificationStoreInfra, PubSubInfra, ObjectStoreInfra, MetricsStoreInfra, Metrics.Default)
  )
)
