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
      // Each chunk is one batched store write (a read, then BatchWriteItem, 25 notifications a request),
      // so a few lanes keep the store busy, and a round of events costs a few chunks, not one per seller
      // (each chunk has a fixed cost, paid on the thread that also writes SSE frames). Chunks spread over
      // many sellers cost about as many round trips at 200 records as at 20, so the lanes hold the
      // engine's default 256 records each (and 16 per parked seller): under load the chunks grow instead
      // of the lag. (At 32 a lane, one full lane held the subscription back while the other lanes' chunks
      // stayed small.)
      lanes: 8,
      // As many sellers may be retrying at once as with the engine's default 64 lanes of 8 each.
      maxParkedPerLane: 64,
      handle: (event, record) => service.handle(event, record),
      // A chunk whose partition is revoked stops writing at its next wave (see NotificationStore.putMany).
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
