import { Effect, Layer } from "effect"
import { analyticsService } from "../domain/Consumers.js"
import type { LifecycleEvent } from "../domain/MetricsDelta.js"
import { AnalyticsApi } from "../domain/HttpApi.js"
import { MetricsLive } from "../http/SellerMetricsRoute.js"
import { AnalyticsArchive } from "../services/AnalyticsArchive.js"
import * as ConsumerEngine from "../services/ConsumerEngine.js"
import * as AnalyticsWorkerPool from "../workers/AnalyticsWorkerPool.js"
import { serveApi } from "./Http.js"
import { AnalyticsInfra } from "./Infra.js"

/**
 * analytics-service's consumer. One lane: appending to the archive is cheap, and a partition's
 * events must reach its archive file in offset order; the heavy work (aggregation, encoding,
 * store writes, uploads) runs per partition behind it, in worker threads and concurrently.
 * The engine subscribes only to lifecycle events, per the contract.
 */
export const AnalyticsConsumer = Layer.scopedDiscard(Effect.gen(function*() {
  const archive = yield* AnalyticsArchive
  yield* ConsumerEngine.supervised({
    contract: analyticsService,
    lanes: 1,
    // A retry of an append (its coverage listing failed) must hold the lane, never let a later
    // offset of the partition into the file before it: the file's first and last offsets name its range.
    maxParkedPerLane: 0,
    laneCapacity: 1024,
    handle: (event, record, defer) => archive.append(record, event as LifecycleEvent, defer()),
    onDrain: archive.flushAll,
    onRevoke: archive.drop
  }).pipe(
    Effect.tapErrorCause((cause) => Effect.logError("analytics consumer stopped", cause)),
    Effect.forkScoped
  )
})).pipe(
  // Built before the consumer, released after it: at shutdown the engine settles its deferred records
  // through the archive's upload fibers before they are stopped.
  Layer.provide(AnalyticsArchive.Default),
  Layer.provide(AnalyticsWorkerPool.layerConfig)
)

/** analytics-service on its own: consumer + metrics endpoint. */
export const AnalyticsServiceLive = Layer.mergeAll(serveApi(AnalyticsApi, MetricsLive), AnalyticsConsumer).pipe(
  Layer.provideMerge(AnalyticsInfra)
)
