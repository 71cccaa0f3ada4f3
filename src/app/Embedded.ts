import { HttpRouter } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Auth } from "../http/Auth.js"
import { gatewayRouter } from "../http/Gateway.js"
import { serveWithHealth } from "./Http.js"
import { EmbeddedInfra } from "./Infra.js"
import { NotificationConsumer, NotificationHttp } from "./Notification.js"
import { AnalyticsConsumer, AnalyticsHttp } from "./Analytics.js"

const Http = serveWithHealth(Effect.gen(function*() {
  return HttpRouter.concatAll(yield* gatewayRouter, yield* NotificationHttp, yield* AnalyticsHttp)
})).pipe(Layer.provide(Auth.Default))

/**
 * The whole system in one process (on the in-memory stack unless `INFRA=live`): the ingest gateway,
 * notification-service and analytics-service behind one HTTP server. Needs a listener.
 */
export const EmbeddedLive = Layer.mergeAll(Http, NotificationConsumer, AnalyticsConsumer).pipe(
  Layer.provideMerge(EmbeddedInfra)
)
