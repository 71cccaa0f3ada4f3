import { Cause, Clock, Deferred, Duration, Effect, Schedule } from "effect"
import { analyticsService, retrySchedule } from "../../domain/Consumers.js"
import type { InvalidEvents } from "../../workers/AnalyticsRequests.js"
import { type AnalyticsWorkerError, AnalyticsWorkers } from "../../workers/AnalyticsWorkers.js"
import { type ConsumerFailure, deadLetterReason, describeCause, sendDeadLetters } from "../DeadLetters.js"
import { EventLog } from "../EventLog.js"
import { MetricsStore, type MetricsStoreError } from "../MetricsStore.js"
import { withBatchSpan } from "../SpanExport.js"
import { type Entry, type HotOutcome, pathDone, sourceOf, tracesOf } from "./Entry.js"
import { type HotBatch, HotBatches } from "./HotBatches.js"
import { applyHot, markDuplicates, touchedAny } from "./HotMetrics.js"
import { makePartitionQueues } from "./PartitionQueues.js"
import { makePendingWriter } from "./PendingWriter.js"
import { HotSettings } from "./Settings.js"

/**
 * The hot path: per partition, micro-batches (`HotSettings`) whose events are claimed (an event
 * published twice counts once, under the record that claimed it first), aggregated in a worker thread
 * and applied to the hot store under the partition's watermark (`applyHot`), batch after batch.
 *
 * While a batch waits or is applied, its events are in their sellers' pending records (`PendingWriter`,
 * `MetricsStore.putPending`) from `freshAfter` after they were read: readers add what is not folded yet.
 * A batch given up on settles once its sellers' records are written without it (however long the
 * store takes), so that its events are never committed while the view still counts them.
 *
 * Failures: the batch is retried by the analytics policy. Given up on, its events are dead-lettered
 * (and their claims released, so a replay counts them) only when none of its writes can be in the
 * store (`touchedAny`); a batch partly applied is retried until it completes, holding its partition
 * back, since dead-lettering it would count its applied part twice on replay.
 */
export const makeHotPath = Effect.gen(function*() {
  const settings = yield* HotSettings
  const workers = yield* AnalyticsWorkers
  const store = yield* MetricsStore
  const log = yield* EventLog
  const batches = new HotBatches(settings)
  const pending = yield* makePendingWriter
  const policy = analyticsService.retry

  /**
   * Claims the batch's events and applies the first-seen ones; each event's outcome, in order. The claims
   * are made in one `claimMany`, whose precondition this path meets: a partition's batches are claimed one
   * after another in offset order, each before its metrics are applied and its offsets can be committed.
   */
  const attempt = (batch: HotBatch): Effect.Effect<ReadonlyArray<HotOutcome>, MetricsStoreError | AnalyticsWorkerError | InvalidEvents> =>
    Effect.gen(function*() {
      const claimed = yield* store.claimMany(
        batch.entries.map((e) => ({ sellerId: e.event.data.sellerId, eventId: e.event.eventId, source: sourceOf(e) }))
      )
      const firstSeen = batch.entries.filter((_, i) => claimed[i])
      if (firstSeen.length > 0) yield* applyHot(workers, store, batch.partition, firstSeen)
      if (firstSeen.length < claimed.length) yield* markDuplicates(store, batch.partition, batch.entries, claimed)
      return claimed.map((c): HotOutcome => (c ? "counted" : "duplicate"))
    })

  const giveUp = (batch: HotBatch, cause: Cause.Cause<ConsumerFailure>) =>
    Effect.gen(function*() {
      const described = describeCause(cause)
      yield* sendDeadLetters(log, analyticsService.group, batch.entries.map((e) => e.record), {
        reason: deadLetterReason(cause),
        error: described.message,
        errorTag: described.tag,
        attempts: policy.maxRetries + 1,
        failedAt: new Date(yield* Clock.currentTimeMillis)
      })
      // A replay of these events (at other offsets) must be able to count them: give up their claims.
      yield* Effect.forEach(batch.entries, (e) => store.release(e.event.data.sellerId, e.event.eventId, sourceOf(e)), {
        concurrency: 32,
        discard: true
      }).pipe(
        // Whatever stops it, the batch must go on to settle: the archive of its partition waits for it.
        Effect.catchAllCause((cause) => Effect.logWarning("claims of dead-lettered events not released", cause))
      )
      yield* Effect.logError(`dead-lettered ${batch.entries.length} events of partition ${batch.partition}`, cause)
      return batch.entries.map((): HotOutcome => "deadLettered")
    })

  /** Retried until it completes: part of the batch may be counted already. */
  const keepApplying = (batch: HotBatch) =>
    attempt(batch).pipe(
      Effect.tapErrorCause((cause) =>
        Effect.logError(`hot metrics of partition ${batch.partition} failing; partly applied, retrying`, cause)
      ),
      Effect.sandbox,
      Effect.retry({ schedule: Schedule.spaced(Duration.millis(policy.maxDelayMillis)), while: (cause) => !Cause.isInterruptedOnly(cause) }),
      // Only an interruption ends it.
      Effect.catchAll(() => Effect.interrupt)
    )

  const afterPolicy = (batch: HotBatch, cause: Cause.Cause<ConsumerFailure>) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.interrupt
      : touchedAny(store, batch.partition, batch.entries).pipe(
        Effect.orElseSucceed(() => true),
        Effect.flatMap((touched) => (touched ? keepApplying(batch) : giveUp(batch, cause)))
      )

  const work = (batch: HotBatch) =>
    Effect.gen(function*() {
      if (batch.dropped) {
        yield* Deferred.succeed(batch.settled, undefined)
        return
      }
      const outcomes = yield* attempt(batch).pipe(
        Effect.retry({ schedule: retrySchedule(policy), while: (e) => e.retriable }),
        Effect.catchAllCause((cause) => afterPolicy(batch, cause))
      )
      batch.entries.forEach((entry, i) => {
        entry.hot = outcomes[i]!
      })
      yield* pending.settle(batch, outcomes.includes("deadLettered"))
      yield* Deferred.succeed(batch.settled, undefined)
      if (batch.dropped) return
      for (const entry of batch.entries) pathDone(entry)
    }).pipe(
      withBatchSpan("HotPath.batch", { partition: batch.partition, events: batch.entries.length }, () => tracesOf(batch.entries))
    )

  const roll = (partition: number, only?: HotBatch): Effect.Effect<void> =>
    Effect.suspend(() => {
      const rolled = batches.roll(partition, only)
      return rolled === undefined ? Effect.void : queues.submit(rolled)
    })

  /**
   * While a partition's batch is being applied, its next batch keeps filling (up to `maxEvents`) instead
   * of rolling at `maxWait`, and rolls as soon as the partition is idle again: a slow store gets fewer,
   * larger batches (fewer writes per event) rather than a queue of small ones.
   */
  const rollIfIdle = (partition: number, only?: HotBatch): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (!queues.busy(partition)) return roll(partition, only)
      const open = batches.peek(partition)
      if (open !== undefined && (only === undefined || open === only)) open.wanted = true
      return Effect.void
    })

  /** Once the partition is idle: its open batch rolls if it is due (or an archive file waits for it). */
  const rollIfDue = (partition: number): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const open = batches.peek(partition)
      if (open === undefined) return Effect.void
      return open.wanted || now - open.openedAt >= Duration.toMillis(settings.maxWait) ? roll(partition, open) : Effect.void
    })

  const queues = yield* makePartitionQueues(work, rollIfDue)
  const timers = yield* Effect.scope

  /** Adds an event to its partition's batch; waits while the partition has batches enough queued. */
  const append = (entry: Entry, now: number) =>
    Effect.suspend(() => {
      const { batch, full, opened } = batches.append(entry, now)
      if (opened) pending.opened(batch)
      pending.appended()
      if (full) return queues.submit(batch)
      if (!opened) return Effect.void
      return Effect.asVoid(Effect.forkIn(Effect.zipRight(Effect.sleep(settings.maxWait), rollIfIdle(batch.partition, batch)), timers))
    })

  const flushAll = Effect.suspend(() => Effect.forEach(batches.rollAll(), queues.submit, { discard: true })).pipe(
    Effect.zipRight(queues.awaitAll)
  )

  const drop = (partition: number) =>
    Effect.suspend(() => {
      pending.drop(partition)
      const dropped = [batches.drop(partition), ...queues.drop(partition)].filter((b) => b !== undefined)
      return Effect.forEach(dropped, (batch) => Deferred.succeed(batch.settled, undefined), { discard: true })
    })

  return { append, rollIfIdle, flushAll, drop } as const
})
