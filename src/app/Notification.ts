import { Effect, Layer } from "effect"
import { notificationService } from "../domain/Consumers.js"
import { NotificationApi } from "../domain/HttpApi.js"
import { DashboardPages } from "../http/Dashboard.js"
import { NotificationsLive } from "../http/Notifications.js"
import * as ConsumerEngine from "../services/ConsumerEngine.js"
import { NotificationHub } from "../services/NotificationHub.js"
import { NotificationService } from "../services/NotificationService.js"
import { serveApi } from "./Http.js"
import { NotificationInfra } from "./Infra.js"

/** notification-service's consumer: every subscribed event becomes a stored, published notification. */
export const NotificationConsumer = Layer.unwrapEffect(
  Effect.map(NotificationService, (service) =>
    ConsumerEngine.layer({
      contract: notificationService,
      // Each chunk is one batched store write, its sellers written concurrently (each in order), so a few
      // lanes keep the store busy, and a round of events costs a few chunks, not one per seller (each
      // chunk has a fixed cost, paid on the thread that also writes SSE frames). At most 8 x 32 records
      // in flight; small chunks keep the commit (and SSE latency) moving while the store is the bottleneck.
      lanes: 8,
      laneCapacity: 32,
      // As many sellers may be retrying at once as with the engine's default 64 lanes of 8 each.
      maxParkedPerLane: 64,
      handle: (event, record) => service.handle(event, record),
      handleChunk: service.handleChunk,
      // The store draws seqs ahead: a seller back from another owner must not get one older than that owner's.
      onAssign: () => service.partitionsMoved,
      onRevoke: () => service.partitionsMoved
    }))
).pipe(Layer.provide(NotificationService.Default))

/**
 * notification-service on its own: consumer + SSE/list endpoints, and the seller dashboard (its metrics
 * from `DASHBOARD_METRICS_URL`, analytics-service).
 */
export const NotificationServiceLive = Layer.mergeAll(
  serveApi(NotificationApi, NotificationsLive, DashboardPages).pipe(Layer.provide(NotificationHub.Default)),
  NotificationConsumer
).pipe(Layer.provideMerge(NotificationInfra))
