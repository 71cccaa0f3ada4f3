import { Duration, Effect, Layer, Schedule, Stream } from "effect"
import { type ConsumerContract, productEventsTopic } from "../domain/Consumers.js"
import { makeCommits } from "./consumer/Commits.js"
import { makeDispatch } from "./consumer/Dispatch.js"
import { EngineMetrics } from "./consumer/EngineMetrics.js"
import type { Handle, HandleChunk } from "./consumer/Handler.js"
import { makeLanePool } from "./consumer/LanePool.js"
import { EngineStats } from "./consumer/Lanes.js"
import { followRebalances } from "./consumer/Rebalances.js"
import { Revocations } from "./consumer/Revocations.js"
import { Watermarks } from "./consumer/Watermark.js"
import { EventLog, EventLogError, type TopicPartition } from "./EventLog.js"
import { Metrics } from "./Metrics.js"

export { EngineStats, laneOf } from "./consumer/Lanes.js"
export type { ChunkItem, ChunkResults, Handle, HandleChunk } from "./consumer/Handler.js"
export type { Defer } from "./consumer/Work.js"

/**
 * The consumer engine: runs one consumer's contract against `product-events`.
 *
 * - Records whose `eventType` header the contract does not subscribe to are skipped undecoded.
 * - Records are spread over a fixed number of lanes by a hash of their key (sellerId): a lane
 *   handles its records in arrival order, lanes run concurrently, and each lane holds at most
 *   `laneCapacity` records, so a full lane holds back the whole subscription (back-pressure).
 * - A decode failure is dead-lettered at once; a handler failure is retried by the contract's
 *   schedule while retriable, then dead-lettered. A retrying record parks its seller
 *   (consumer/Parking.ts): it and that seller's later records move, in order, to a fiber of the
 *   seller, and the lane goes on with other sellers; at most `maxParkedPerLane` sellers per lane and
 *   `laneCapacity` records each, past which the lane waits.
 * - Chunks, not records: the subscription's fetched batches are dispatched to lanes in plain code;
 *   a lane takes what is queued as one chunk, decodes it, and hands it to `handleChunk` (or to
 *   `handle` record by record, in plain code while its effects are already complete). Effects,
 *   metrics updates and wake-ups are paid per chunk; retries, dead letters and their spans
 *   (`ConsumerEngine.recover`, `ConsumerEngine.deadLetter`) only for the records that need them.
 * - Without `handleChunk` (and unless spans are exported, one per segment), a record whose lane is
 *   idle (nothing queued, in hand or parked) is decoded and handled by the dispatcher itself: a
 *   synchronous handler's record is then done without a lane at all; one whose effect is still to
 *   run (or failed) goes to its lane with that first attempt, and its lane's later records queue
 *   behind it as usual.
 * - Offsets are committed per partition up to the first unfinished record: periodically, on
 *   revocation and on shutdown (interruption), after the lanes drained within `shutdownTimeout`.
 */
export interface RunOptions<E extends { readonly retriable: boolean }, R> {
  readonly contract: ConsumerContract
  /** Handles one record: the entry point for retries, and for every record without `handleChunk`. */
  readonly handle: Handle<E, R>
  /** Handles a lane's chunk at once (e.g. batched writes); failed records are retried through `handle`. */
  readonly handleChunk?: HandleChunk<E, R>
  /** Runs at shutdown after the lanes drained and before the final commit: settle deferred work here. */
  readonly onDrain?: Effect.Effect<void>
  /** Runs when partitions are revoked, before their finished prefix is committed: drop their deferred work. */
  readonly onRevoke?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Runs when partitions are assigned, before their first record is handled: drop state another owner may have made stale. */
  readonly onAssign?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Lanes (records handled concurrently, by key). Default 64. */
  readonly lanes?: number
  /** Records held per lane (queued or being handled), and queued per parked seller. Default 256 per lane, 16 per parked seller. */
  readonly laneCapacity?: number
  /** Sellers parked (retrying, off their lane) per lane at most; past it the lane waits. Default 8. */
  readonly maxParkedPerLane?: number
  /** Default 1 second. */
  readonly commitInterval?: Duration.DurationInput
  /** How long in-flight work may take to finish on shutdown. Default 30 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput
  /** Counters of live lanes and in-flight records, for tests and diagnostics. */
  readonly stats?: EngineStats
}

export const defaultLanes = 64
/** Deep enough that a fetched batch spreads over the lanes without waiting on one: chunks, not records. */
export const defaultLaneCapacity = 256
export const defaultParkedCapacity = 16
export const defaultMaxParkedPerLane = 8

/** Runs until interrupted (then drains and commits) or until the subscription fails. */
export const run = <E extends { readonly retriable: boolean }, R = never>(
  options: RunOptions<E, R>
): Effect.Effect<never, EventLogError, EventLog | Metrics | R> =>
  Effect.gen(function*() {
    const log = yield* EventLog
    const metrics = yield* Metrics
    const { contract } = options
    const group = contract.group
    const stats = options.stats ?? new EngineStats()
    const counters = new EngineMetrics(metrics, group)

    const subscription = yield* log.subscribe({ group, topics: [productEventsTopic] })
    const watermarks = new Watermarks()
    const revocations = new Revocations()
    const { commit, updateLag } = yield* makeCommits({ log, subscription, watermarks, metrics, group })
    const lanes = yield* makeLanePool({
      contract,
      handle: options.handle,
      handleChunk: options.handleChunk,
      onDrain: options.onDrain,
      laneCapacity: options.laneCapacity ?? defaultLaneCapacity,
      // `laneCapacity` bounds each parked seller's queue too (see RunOptions.laneCapacity).
      parkedCapacity: options.laneCapacity ?? defaultParkedCapacity,
      maxParkedPerLane: options.maxParkedPerLane ?? defaultMaxParkedPerLane,
      shutdownTimeout: options.shutdownTimeout ?? Duration.seconds(30)
    }, { log, counters, stats, revocations })
    const dispatch = makeDispatch<R>({
      contract,
      laneCount: options.lanes ?? defaultLanes,
      watermarks,
      revocations,
      counters,
      stats,
      buffer: lanes.buffer,
      startLane: lanes.start,
      handleNow: lanes.handleNow,
      done: lanes.done
    })

    // Forked before the shutdown finalizer is added, so it still handles revocations while shutdown drains.
    yield* followRebalances({ subscription, revocations, watermarks, counters, metrics, group, commit, onRevoke: options.onRevoke, onAssign: options.onAssign })
      .pipe(Effect.forkScoped)
    yield* Effect.addFinalizer(() =>
      lanes.drain.pipe(
        Effect.zipRight(Effect.sync(() => counters.flush())),
        Effect.zipRight(commit()),
        Effect.zipRight(updateLag),
        Effect.withSpan("ConsumerEngine.shutdown")
      )
    )

    // Counted before committed: a committed record is never missing from the metrics.
    yield* Effect.sync(() => counters.flush()).pipe(
      Effect.zipRight(commit()),
      Effect.zipRight(updateLag),
      Effect.repeat(Schedule.spaced(options.commitInterval ?? Duration.seconds(1))),
      Effect.forkScoped
    )

    yield* Stream.runForEachChunk(subscription.records, dispatch)
    return yield* new EventLogError({ operation: "consume", cause: "the subscription's record stream ended" })
  }).pipe(Effect.scoped, Effect.annotateLogs({ service: "ConsumerEngine", group: options.contract.group }))

/**
 * Restarts of a consumer whose subscription failed (the broker unreachable, the client crashed):
 * 1 s doubling to 30 s, jittered, and from 1 s again after five quiet minutes. It never gives up:
 * consuming is the service's reason to run, and each restart is logged and counted
 * (`consumer_restarts_total`).
 */
export const restartSchedule = Schedule.exponential(Duration.seconds(1)).pipe(
  Schedule.either(Schedule.spaced(Duration.seconds(30))),
  Schedule.jittered,
  Schedule.resetAfter(Duration.minutes(5))
)

/** `run`, restarted by `restartSchedule` after each failure, with a fresh subscription: only interruption or a defect ends it. */
export const supervised = <E extends { readonly retriable: boolean }, R = never>(
  options: RunOptions<E, R>
): Effect.Effect<never, EventLogError, EventLog | Metrics | R> =>
  Effect.flatMap(Metrics, (metrics) =>
    run(options).pipe(
      Effect.tapError((error) =>
        Effect.sync(() => metrics.restarts.inc({ group: options.contract.group })).pipe(
          Effect.zipRight(Effect.logError("consumer failed; restarting it with a new subscription", error)),
          Effect.annotateLogs({ service: "ConsumerEngine", group: options.contract.group })
        )
      ),
      Effect.retry(restartSchedule)
    ))

/** The engine as a layer: runs (supervised) in the background for the layer's lifetime; closing it drains and commits. */
export const layer = <E extends { readonly retriable: boolean }, R = never>(
  options: RunOptions<E, R>
): Layer.Layer<never, never, EventLog | Metrics | R> =>
  Layer.scopedDiscard(
    supervised(options).pipe(
      Effect.tapErrorCause((cause) => Effect.logError("consumer stopped", cause)),
      Effect.forkScoped
    )
  )
