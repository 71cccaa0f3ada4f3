import { HttpRouter } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Auth } from "../http/Auth.js"
import { gatewayRouter } from "../http/Gateway.js"
import { healthRouter } from "../http/Health.js"
import { serve } from "../http/HttpLive.js"
import { notificationsRouter } from "../http/Notifications.js"
import { NotificationFeed } from "../services/NotificationFeed.js"
import { InfraMemory, TopicsLive } from "./Infra.js"
import { NotificationConsumer } from "./Notification.js"
import { readinessChecks } from "./Readiness.js"

const Http = serve(Effect.gen(function*() {
  return HttpRouter.concatAll(
    yield* gatewayRouter,
    yield* notificationsRouter,
    yield* Effect.flatMap(readinessChecks, healthRouter)
  )
})).pipe(Layer.provide(Layer.mergeAll(Auth.Default, NotificationFeed.Default)))

/**
 * The whole system in one process on the in-memory stack: the ingest gateway, notification-service
 * (consumer, SSE and list endpoints) and analytics-service, behind one HTTP server. Needs a listener.
 */
export const EmbeddedLive = Layer.mergeAll(Http, NotificationConsumer).pipe(
  Layer.provide(TopicsLive),
  Layer.provideMerge(InfraMemory)
)
