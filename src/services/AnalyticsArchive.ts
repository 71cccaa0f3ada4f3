import { Clock, Effect, Exit, Schedule } from "effect"
import { analyticsService } from "../domain/Consumers.js"
import type { LifecycleEvent } from "../domain/MetricsDelta.js"
import { traceparentHeader } from "../domain/TraceContext.js"
import { makeColdPath } from "./analytics/ColdPath.js"
import { makeEntry } from "./analytics/Entry.js"
import { makeHotPath } from "./analytics/HotPath.js"
import type { ChunkItem, RunOptions } from "./ConsumerEngine.js"
import type { LogRecord, TopicPartition } from "./EventLog.js"
import type { ObjectStoreError } from "./ObjectStore.js"
import { type EventContexts, eventContexts } from "./SpanExport.js"

/**
 * analytics-service's pipeline behind the consumer engine, on two paths with one source of truth, the
 * offsets. Each lifecycle event is encoded once and goes, in offset order per partition, to
 * - the hot path (`analytics/HotPath.ts`): micro-batches of about a second applied to the hot store
 *   under the partition's watermark, so the seller metrics are fresh within seconds;
 * - the cold path (`analytics/ColdPath.ts`): archive files rolled by size, age, idleness and hour,
 *   uploaded under keys derived from their offsets.
 * A record is finished for the engine's commit once both paths have it.
 */
const makePipeline = Effect.gen(function*() {
  const hot = yield* makeHotPath
  const cold = yield* makeColdPath((partition) => hot.rollIfIdle(partition))
  yield* Effect.forkScoped(Effect.repeat(cold.rollDue, Schedule.spaced(cold.tick)))

  const appendAt = (record: LogRecord, event: LifecycleEvent, finish: () => void, now: number, contexts: EventContexts | undefined) =>
    Effect.gen(function*() {
      const entry = makeEntry(record, event, finish, contexts?.(record.headers[traceparentHeader]))
      // The only step that can fail (the archive's coverage listing) comes first: a retry appends nothing twice.
      // An uploaded object holds only events whose hot batch had settled: a record it covers is finished.
      if (yield* cold.covered(entry)) return finish()
      yield* hot.append(entry, now)
      yield* cold.append(entry, now)
    })

  /** Appends a lifecycle event; `finish` is called once it is in the hot store and in an uploaded object. */
  const append = Effect.fn("AnalyticsArchive.append")(function*(record: LogRecord, event: LifecycleEvent, finish: () => void) {
    yield* appendAt(record, event, finish, yield* Clock.currentTimeMillis, yield* eventContexts)
  })

  /** The engine's chunk entry point: the lane's records in order, up to the first failure (the rest left to the engine). */
  const appendChunk = (items: ReadonlyArray<ChunkItem>, dropped: (item: ChunkItem) => boolean) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const contexts = yield* eventContexts
      const results: Array<Exit.Exit<void, ObjectStoreError> | undefined | null> = new Array(items.length).fill(undefined)
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!
        if (dropped(item)) {
          results[i] = null
          continue
        }
        const exit = yield* Effect.exit(appendAt(item.record, item.event as LifecycleEvent, item.defer(), now, contexts))
        results[i] = exit
        if (Exit.isFailure(exit)) break
      }
      return results
    }).pipe(Effect.withSpan("AnalyticsArchive.appendChunk", { attributes: { records: items.length } }))

  /** Rolls every batch and file and waits for all of them: the consumer's last step before its final commit. */
  const flushAll = Effect.zipRight(cold.flushAll, hot.flushAll).pipe(Effect.withSpan("AnalyticsArchive.flushAll"))

  /** Forgets the revoked partitions' batches and files: their records will be consumed again by their new owner. */
  const drop = (partitions: ReadonlyArray<TopicPartition>) =>
    Effect.forEach(partitions, ({ partition }) => Effect.zipRight(hot.drop(partition), cold.drop(partition)), { discard: true })

  return { append, appendChunk, flushAll, drop } as const
})

/**
 * The pipeline as a service. Its background fibers live in the scope it is built in: a consumer that
 * settles deferred work in it at shutdown must be built after it and released before it (see `consumerOptions`).
 */
export class AnalyticsArchive extends Effect.Service<AnalyticsArchive>()("product-events/AnalyticsArchive", {
  scoped: makePipeline
}) {}

/**
 * The consumer engine's options for the pipeline, with those its correctness needs:
 * - one lane: a partition's records must reach its batch and its file in offset order (a file's first
 *   and last offsets name its range; a batch's range is its watermark condition);
 * - no parked sellers: a retry of an append (its coverage listing failed) must hold the lane, never
 *   let a later offset of the partition in before it.
 * The engine subscribes only to lifecycle events, per the contract.
 */
export const consumerOptions = (archive: AnalyticsArchive) =>
  ({
    contract: analyticsService,
    lanes: 1,
    maxParkedPerLane: 0,
    laneCapacity: 1024,
    handle: (event, record, defer) => archive.append(record, event as LifecycleEvent, defer()),
    handleChunk: (items, dropped) => archive.appendChunk(items, dropped),
    onDrain: archive.flushAll,
    onRevoke: archive.drop
  }) satisfies RunOptions<ObjectStoreError, never>
