import { Effect, Option } from "effect"
import { combineAll, deltaOf, deltasBySeller, type LifecycleEvent } from "../../domain/MetricsDelta.js"
import { deltaItems } from "../../domain/SellerMetrics.js"
import type { LifecycleEventJson } from "../../workers/AnalyticsRequests.js"
import type { AnalyticsWorkers } from "../../workers/AnalyticsWorkers.js"
import type { LogRecord } from "../EventLog.js"
import { type MetricsStore, type MetricsStoreError, type MetricsUpdate, toStoreUpdates } from "../MetricsStore.js"

/** What the hot store needs of an event: its source record, the event, and the event as JSON (for the worker). */
export interface HotEntry {
  readonly record: LogRecord
  readonly event: LifecycleEvent
  readonly json: LifecycleEventJson
}

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
  entries: ReadonlyArray<HotEntry>
) =>
  Effect.gen(function*() {
    const fromOffset = entries[0]!.record.offset
    const offset = entries[entries.length - 1]!.record.offset
    const deltas = yield* workers.aggregate(entries.map((e) => e.json))

    // Another writer may move the watermark again meanwhile (an old owner still applying): re-fold until settled.
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

    // Each item has its own watermark: a seller's items are written concurrently too, not one after another.
    yield* Effect.forEach(
      Object.entries(deltas).flatMap(([sellerId, delta]) => toStoreUpdates(sellerId, delta, { partition, fromOffset, offset })),
      (update) => Effect.flatMap(store.apply(update), (result) => (result === "overlap" ? reapply(update) : Effect.void)),
      { concurrency: 4, discard: true }
    )
  }).pipe(Effect.withSpan("HotMetrics.apply", { attributes: { partition, events: entries.length } }))

/**
 * Moves, adding nothing, the watermark of each item that only the run's duplicates change (events
 * published twice, counted under their first record): the pending view, which showed them with the
 * run's window, then leaves them out, as it leaves out the run's counted events once they are applied.
 */
export const markDuplicates = (
  store: typeof MetricsStore.Service,
  partition: number,
  entries: ReadonlyArray<HotEntry>,
  counted: ReadonlyArray<boolean>
): Effect.Effect<void, MetricsStoreError> => {
  const range = { partition, fromOffset: entries[0]!.record.offset, offset: entries[entries.length - 1]!.record.offset }
  const withDuplicates = new Set(entries.filter((_, i) => !counted[i]).map((e) => e.event.data.sellerId))
  const written = new Set<string>()
  const marks = new Map<string, MetricsUpdate>()
  entries.forEach(({ event }, i) => {
    const sellerId = event.data.sellerId
    if (!withDuplicates.has(sellerId)) return
    for (const item of Object.keys(deltaOf(event))) {
      const key = JSON.stringify([sellerId, item])
      if (counted[i]) written.add(key)
      else marks.set(key, { sellerId, item, ...range, add: {} })
    }
  })
  const updates = [...marks].filter(([key]) => !written.has(key)).map(([, update]) => update)
  return Effect.forEach(updates, (update) => store.apply(update), { concurrency: 4, discard: true })
}

/**
 * Whether any write of a run may be in the hot store: some item the run changes holds a watermark of
 * the partition at or past the run's first offset. The partition's runs are applied one after another,
 * so a watermark there can only come from this run (before a crash, or in a failed attempt). Fails
 * when the store cannot tell: then the answer is unknown, and the run must not be given up.
 */
export const touchedAny = (
  store: typeof MetricsStore.Service,
  partition: number,
  entries: ReadonlyArray<HotEntry>
): Effect.Effect<boolean, MetricsStoreError> => {
  if (entries.length === 0) return Effect.succeed(false)
  const fromOffset = entries[0]!.record.offset
  const items = Object.entries(deltasBySeller(entries.map((e) => e.event))).flatMap(([sellerId, delta]) =>
    deltaItems(delta).map(({ item }) => ({ sellerId, item }))
  )
  return Effect.forEach(items, ({ item, sellerId }) => store.watermark(sellerId, item, partition), { concurrency: 16 }).pipe(
    Effect.map((marks) => marks.some((mark) => Option.isSome(mark) && mark.value >= fromOffset))
  )
}
