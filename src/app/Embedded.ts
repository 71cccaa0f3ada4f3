import { Layer } from "effect"
import { ProductEventsApi } from "../domain/HttpApi.js"
import { DashboardPages } from "../http/Dashboard.js"
import { EventsLive } from "../http/Gateway.js"
import { NotificationsLive } from "../http/Notifications.js"
import { MetricsLive } from "../http/SellerMetricsRoute.js"
import { NotificationHub } from "../services/NotificationHub.js"
import { AnalyticsConsumer } from "./Analytics.js"
import { serveApi } from "./Http.js"
import { EmbeddedInfra } from "./Infra.js"
import { NotificationConsumer } from "./Notification.js"

const Http = serveApi(ProductEventsApi, Layer.mergeAll(EventsLive, NotificationsLive, MetricsLive), DashboardPages).pipe(
  Layer.provide(NotificationHub.Default)
)

/**
 * The whole system in one process (on the in-memory stack unless `INFRA=live`): the ingest gateway,
 * notification-service and analytics-service behind one HTTP server, with the seller dashboard. Needs a listener.
 */
export const EmbeddedLive = Layer.mergeAll(Http, NotificationConsumer, AnalyticsConsumer).pipe(
  Layer.provideMerge(EmbeddedInfra)
)
