import { Duration, Effect, ExecutionStrategy, Fiber, Layer, Option, Schedule, Scope, Stream } from "effect"
import { type ConsumerContract, productEventsTopic, retrySchedule, subscribes } from "../domain/Consumers.js"
import { makeCommits } from "./consumer/Commits.js"
import { decodeRecord } from "./consumer/Decode.js"
import { makeDispatch } from "./consumer/Dispatch.js"
import { EngineMetrics, eventTypeLabel, type Outcome } from "./consumer/EngineMetrics.js"
import { type ChunkItem, type Handle, handleEach, type HandleChunk } from "./consumer/Handler.js"
import { LaneBuffer } from "./consumer/LaneBuffer.js"
import { EngineStats } from "./consumer/Lanes.js"
import { makeLaneLoop, type Prepared } from "./consumer/LaneLoop.js"
import { makeRecovery } from "./consumer/Recovery.js"
import { Revocations } from "./consumer/Revocations.js"
import { traceSegments } from "./consumer/Tracing.js"
import { Watermarks } from "./consumer/Watermark.js"
import type { Work } from "./consumer/Work.js"
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

interface Lane {
  readonly buffer: LaneBuffer
  readonly fiber: Fiber.RuntimeFiber<void>
}

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
    const startLane = yield* makeLanes(options, { log, counters, stats, revocations })

    const lanes: Array<Lane | undefined> = []
    const dispatch = makeDispatch<R>({
      contract,
      laneCount: options.lanes ?? defaultLanes,
      watermarks,
      revocations,
      counters,
      stats,
      lane: (index) => lanes[index]?.buffer ?? Effect.map(startLane(), (lane) => (lanes[index] = lane).buffer),
      done: (work, deferred) => {
        work.mark.finish(work.record.offset)
        counters.finished(work.record, eventTypeLabel(work.record), "done")
        // Outside a lane's chunk: counted now.
        if (deferred) counters.flush()
      }
    })

    const revoke = (partitions: ReadonlyArray<TopicPartition>) =>
      Effect.gen(function*() {
        revocations.revoke(partitions)
        const marks = partitions.flatMap((tp) => {
          const mark = watermarks.get(tp.topic, tp.partition)
          return mark === undefined ? [] : [mark]
        })
        if (options.onRevoke) yield* options.onRevoke(partitions)
        counters.flush()
        yield* commit(marks)
        for (const mark of marks) {
          mark.revoked = true
          watermarks.forget(mark)
        }
        // Another member reports these partitions' lag now.
        for (const tp of partitions) metrics.lag.remove({ group, partition: String(tp.partition) })
      })

    // Forked before the shutdown finalizer is added, so it still handles revocations while shutdown drains.
    yield* subscription.rebalances.pipe(
      Stream.runForEach((rebalance) =>
        rebalance._tag === "Revoked" ? revoke(rebalance.partitions) : Effect.sync(() => revocations.assign(rebalance.partitions))
      ),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() =>
      shutdown(lanes, options, stats).pipe(
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
 * How lanes are made: each a buffer and a fiber (in a scope of its own, closed after the
 * subscription's) running the lane loop with the engine's decode, handler and recovery.
 */
const makeLanes = <E extends { readonly retriable: boolean }, R>(
  options: RunOptions<E, R>,
  engine: {
    readonly log: EventLog["Type"]
    readonly counters: EngineMetrics
    readonly stats: EngineStats
    readonly revocations: Revocations
  }
) =>
  Effect.gen(function*() {
    const { contract } = options
    const { counters, revocations, stats } = engine
    const laneCapacity = options.laneCapacity ?? defaultLaneCapacity
    const laneScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const isRevoked = (work: Work) => revocations.isRevoked(work)
    /** Counts a record as finished: for the commit watermark and the metrics. */
    const complete = (work: Work, outcome: Outcome): void => {
      work.mark.finish(work.record.offset)
      counters.finished(work.record, eventTypeLabel(work.record), outcome)
    }
    const recovery = makeRecovery({
      log: engine.log,
      group: contract.group,
      counters,
      schedule: retrySchedule(contract.retry),
      handle: options.handle,
      dropped: isRevoked,
      deadLettered: (work) => complete(work, "dead_lettered")
    })

    const prepare = (work: Work): Prepared => {
      if (isRevoked(work)) return undefined
      const decoded = decodeRecord(work.record)
      if (decoded._tag === "Left") return recovery.decodeFailed(work, decoded.left)
      if (!subscribes(contract, decoded.right.eventType)) {
        complete(work, "skipped")
        return undefined
      }
      return decoded.right
    }
    const droppedItem = (item: ChunkItem) => revocations.isRevokedRecord(item.record)
    const laneLoop = makeLaneLoop<E, R>({
      handle: options.handle,
      runSegment: traceSegments(
        contract.group,
        options.handleChunk === undefined
          ? handleEach(options.handle, droppedItem)
          : (items) => options.handleChunk!(items, droppedItem)
      ),
      prepare,
      recover: recovery.handlerFailed,
      flushCounts: () => counters.flush(),
      stats,
      maxParked: options.maxParkedPerLane ?? 8,
      capacity: options.laneCapacity ?? defaultParkedCapacity
    })

    return (): Effect.Effect<Lane, never, R> =>
      Effect.gen(function*() {
        const buffer = new LaneBuffer(laneCapacity)
        stats.laneStarted()
        const fiber = yield* laneLoop(buffer).pipe(
          Effect.ensuring(Effect.sync(() => stats.laneStopped())),
          Effect.forkIn(laneScope)
        )
        return { buffer, fiber }
      })
  })

/** At shutdown: the lanes finish what they hold within `shutdownTimeout`, then deferred work settles. */
const shutdown = <E extends { readonly retriable: boolean }, R>(
  lanes: ReadonlyArray<Lane | undefined>,
  options: RunOptions<E, R>,
  stats: EngineStats
) =>
  Effect.gen(function*() {
    const shutdownTimeout = options.shutdownTimeout ?? Duration.seconds(30)
    const open = lanes.filter((lane) => lane !== undefined)
    for (const lane of open) lane.buffer.end()
    const drained = yield* Fiber.awaitAll(open.map((lane) => lane.fiber)).pipe(
      Effect.interruptible,
      Effect.timeoutOption(shutdownTimeout)
    )
    if (Option.isNone(drained)) {
      yield* Effect.logWarning(`shutdown: ${stats.inFlight} records unfinished after ${Duration.format(shutdownTimeout)}`)
    }
    yield* Effect.forEach(open, (lane) => Fiber.interrupt(lane.fiber), { discard: true })
    if (options.onDrain) {
      const settled = yield* options.onDrain.pipe(Effect.interruptible, Effect.timeoutOption(shutdownTimeout))
      if (Option.isNone(settled)) yield* Effect.logWarning("shutdown: deferred work not settled in time; it will be redelivered")
    }
  })

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
