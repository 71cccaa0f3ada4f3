import { Layer } from "effect"
import * as Tasks from "./AnalyticsTasks.js"
import { AnalyticsWorkers } from "./AnalyticsWorkers.js"

/** The workers' tasks on the calling thread: for unit tests of callers. */
export const layerInline: Layer.Layer<AnalyticsWorkers> = Layer.succeed(AnalyticsWorkers, {
  size: 0,
  aggregate: Tasks.aggregate,
  encodeArchive: Tasks.encode
})
