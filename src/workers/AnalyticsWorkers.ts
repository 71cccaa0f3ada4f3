import { Context, Data, type Effect } from "effect"
import type { Delta } from "../domain/MetricsDelta.js"
import type { AnalyticsRequest, InvalidEvents, LifecycleEventJson } from "./AnalyticsRequests.js"

/** No worker could be started (e.g. its entry fails at import): terminal, the service cannot run. */
export class WorkerStartError extends Data.TaggedError("WorkerStartError")<{
  readonly entry: string
  readonly cause: unknown
}> {
  readonly retriable = false
  override get message() {
    const reason = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `analytics worker ${this.entry} failed to start: ${reason}`
  }
}

/** A task failed in a started worker (it crashed, or a message could not be passed): worth another try. */
export class WorkerTaskError extends Data.TaggedError("WorkerTaskError")<{
  readonly task: AnalyticsRequest["_tag"]
  readonly cause: unknown
}> {
  readonly retriable = true
}

export type AnalyticsWorkerError = WorkerStartError | WorkerTaskError

/**
 * Batch aggregation and archive encoding, off the event loop: a pool of worker threads
 * (`AnalyticsWorkerPool.layer`, `layerConfig`) or the same work inline (`AnalyticsWorkersInline.layerInline`).
 */
export class AnalyticsWorkers extends Context.Tag("product-events/AnalyticsWorkers")<
  AnalyticsWorkers,
  {
    /** Worker threads in the pool; 0 when running inline. */
    readonly size: number
    /** Per-seller deltas of a batch of lifecycle events (sellers with nothing to change left out). */
    readonly aggregate: (
      events: ReadonlyArray<LifecycleEventJson>
    ) => Effect.Effect<Record<string, Delta>, InvalidEvents | AnalyticsWorkerError>
    /** Gzipped NDJSON of the lines, deterministic. */
    readonly encodeArchive: (lines: ReadonlyArray<string>) => Effect.Effect<Uint8Array, AnalyticsWorkerError>
  }
>() {}
