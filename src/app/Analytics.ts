import { Effect, Layer } from "effect"
import { AnalyticsApi } from "../domain/HttpApi.js"
import { MetricsLive } from "../http/SellerMetricsRoute.js"
import { AnalyticsArchive, consumerOptions } from "../services/AnalyticsArchive.js"
import * as ConsumerEngine from "../services/ConsumerEngine.js"
import * as AnalyticsWorkerPool from "../workers/AnalyticsWorkerPool.js"
import { serveApi } from "./Http.js"
import { AnalyticsInfra } from "./Infra.js"

/**
 * analytics-service's consumer: the engine with the pipeline's options (`consumerOptions`). Appending
 * is cheap; the heavy work (aggregation, encoding, store writes, uploads) runs per partition behind
 * it, in worker threads and concurrently.
 */
export const AnalyticsConsumer = Layer.scopedDiscard(Effect.gen(function*() {
  const archive = yield* AnalyticsArchive
  yield* ConsumerEngine.supervised(consumerOptions(archive)).pipe(
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
