import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Effect, Layer } from "effect"
import { AnalyticsRequest } from "./AnalyticsRequests.js"
import { aggregate, encode } from "./AnalyticsTasks.js"

/** Entry of an analytics worker thread (started through `analytics-worker.mjs`). */
const WorkerLive = WorkerRunner.layerSerialized(AnalyticsRequest, {
  Aggregate: ({ events }) => aggregate(events),
  EncodeArchive: ({ lines }) => encode(lines)
}).pipe(Layer.provide(NodeWorkerRunner.layer))

Effect.runFork(WorkerRunner.launch(WorkerLive).pipe(Effect.tapErrorCause(Effect.logError)))
