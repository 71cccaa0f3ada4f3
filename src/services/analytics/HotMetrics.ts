import { Effect, Option } from "effect"
import { combineAll, deltaOf } from "../../domain/MetricsDelta.js"
import type { AnalyticsWorkers } from "../../workers/AnalyticsWorkers.js"
import { type MetricsStore, type MetricsStoreError, type MetricsUpdate, toStoreUpdates } from "../MetricsStore.js"
import type { ArchiveEntry } from "./ArchiveEntry.js"

/**
 * Applies a run of one partition's events to the hot store, effectively once: the deltas are
 * aggregated in a worker thread, and each seller item's write is conditional on the partition's
 * watermark. When an item already holds part of the run (the run was cut differently before a
 * crash), only the events after its watermark are folded again and applied.
 */
export const applyHot = (
  workers: typeof AnalyticsWorkers.Service,
  store: typeof MetricsStore.Service,
  partition: number,
  entries: ReadonlyArray<ArchiveEntry>
) =>
  Effect.gen(function*() {
    const fromOffset = entries[0]!.record.offset
    const offset = entries[entries.length - 1]!.record.offset
    const deltas = yield* workers.aggregate(entries.map((e) => e.json))

    // Another writer may move the watermark again meanwhile (an old owner still uploading): re-fold until settled.
    const reapply = (update: MetricsUpdate): Effect.Effect<void, MetricsStoreError> =>
      Effect.gen(function*() {
        const watermark = yield* store.watermark(update.sellerId, update.item, partition)
        const after = Option.getOrElse(watermark, () => -1)
        const values = combineAll(
          entries
            .filter((e) => e.record.offset > after && e.event.data.sellerId === update.sellerId)
            .map((e) => deltaOf(e.event))
        )[update.item]
        if (values === undefined || after >= offset) return
        const result = yield* store.apply({ ...update, fromOffset: after + 1, add: values })
        if (result === "overlap") yield* reapply(update)
      })

    yield* Effect.forEach(
      Object.entries(deltas),
      ([sellerId, delta]) =>
        Effect.forEach(
          toStoreUpdates(sellerId, delta, { partition, fromOffset, offset }),
          (update) => Effect.flatMap(store.apply(update), (result) => (result === "overlap" ? reapply(update) : Effect.void)),
          { discard: true }
        ),
      { concurrency: 16, discard: true }
    )
  }).pipe(Effect.withSpan("AnalyticsArchive.applyHot", { attributes: { partition, events: entries.length } }))
