import { Chunk, Duration, Effect, Either, ExecutionStrategy, Fiber, Layer, Option, Queue, Schedule, Scope, Stream } from "effect"
import { type ConsumerContract, productEventsTopic, retrySchedule, subscribes } from "../domain/Consumers.js"
import type { ProductEvent } from "../domain/ProductEvent.js"
import { decodeRecord } from "./consumer/Decode.js"
import { EngineMetrics, eventTypeLabel, type Outcome } from "./consumer/EngineMetrics.js"
import { EngineStats, laneOf } from "./consumer/Lanes.js"
import { endOfLane, type LaneQueue, makeLaneLoop } from "./consumer/LaneLoop.js"
import { makeRecovery } from "./consumer/Recovery.js"
import { type PartitionWatermark, Watermarks } from "./consumer/Watermark.js"
import { type Defer, Work } from "./consumer/Work.js"
import { EventLog, EventLogError, type LogRecord, type TopicPartition } from "./EventLog.js"
import { Metrics } from "./Metrics.js"

export { EngineStats, laneOf } from "./consumer/Lanes.js"
export type { Defer } from "./consumer/Work.js"

/**
 * The consumer engine: runs one consumer's contract against `product-events`.
 *
 * - Records whose `eventType` header the contract does not subscribe to are skipped undecoded.
 * - Records are spread over a fixed number of lanes by a hash of their key (sellerId): a lane
 *   handles its records one at a time in arrival order, lanes run concurrently, and each lane's
 *   queue is bounded, so a full lane holds back the whole subscription (back-pressure).
 * - A decode failure is dead-lettered at once; a handler failure is retried by the contract's
 *   schedule while retriable, then dead-lettered. A retrying record parks its seller
 *   (consumer/Parking.ts): it and that seller's later records move, in order, to a fiber of the
 *   seller, and the lane goes on with other sellers; at most `maxParkedPerLane` sellers per lane and
 *   `laneCapacity` records each, past which the lane waits.
 * - Per record, the common path is kept cheap: records are handed to lanes a chunk at a time,
 *   decoded synchronously and handled by one run of the handler; retries, dead letters and their
 *   spans (`ConsumerEngine.recover`, `ConsumerEngine.deadLetter`) only for the records that need them.
 * - Offsets are committed per partition up to the first unfinished record: periodically, on
 *   revocation and on shutdown (interruption), after the lanes drained within `shutdownTimeout`.
 */
export interface RunOptions<E extends { readonly retriable: boolean }, R> {
  readonly contract: ConsumerContract
  readonly handle: (event: ProductEvent, record: LogRecord, defer: Defer) => Effect.Effect<void, E, R>
  /** Runs at shutdown after the lanes drained and before the final commit: settle deferred work here. */
  readonly onDrain?: Effect.Effect<void>
  /** Runs when partitions are revoked, before their finished prefix is committed: drop their deferred work. */
  readonly onRevoke?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Records handled concurrently at most. Default 64. */
  readonly lanes?: number
  /** Records queued per lane, and per parked seller. Default 16. */
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

interface Lane {
  readonly queue: LaneQueue
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
    const laneCount = options.lanes ?? defaultLanes
    const laneCapacity = options.laneCapacity ?? 16
    const stats = options.stats ?? new EngineStats()
    const schedule = retrySchedule(contract.retry)
    const counters = new EngineMetrics(metrics, group)

    const subscription = yield* log.subscribe({ group, topics: [productEventsTopic] })
    const laneScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const watermarks = new Watermarks()
    const revoked = new Set<string>()
    const lanes: Array<Lane | undefined> = []

    const commitLock = yield* Effect.makeSemaphore(1)
    const commit = (marks?: ReadonlyArray<PartitionWatermark>) =>
      commitLock.withPermits(1)(Effect.suspend(() => {
        const offsets = watermarks.due(marks)
        if (offsets.length === 0) return Effect.void
        return subscription.commit(offsets).pipe(Effect.tap(() => watermarks.markCommitted(offsets)))
      })).pipe(
        Effect.catchAll((e) => Effect.logWarning("commit failed; the next one will carry it", e)),
        Effect.withSpan("ConsumerEngine.commit")
      )

    const updateLag = log.endOffsets(productEventsTopic).pipe(
      Effect.map((ends) => {
        for (const end of ends) {
          const mark = watermarks.get(end.topic, end.partition)
          if (mark !== undefined && mark.committed >= 0) {
            metrics.lag.set({ group, partition: String(end.partition) }, Math.max(0, end.offset - mark.committed))
          }
        }
      }),
      Effect.catchAll((e) => Effect.logDebug("lag not updated", e))
    )

    const isRevoked = (work: Work) =>
      work.mark.revoked || (revoked.size > 0 && revoked.has(Watermarks.key(work.record.topic, work.record.partition)))
    /** Counts a record as finished: for the commit watermark and the metrics. */
    const complete = (work: Work, outcome: Outcome): void => {
      work.mark.finish(work.record.offset)
      counters.finished(work.record, eventTypeLabel(work.record), outcome)
    }
    const done = (work: Work) => complete(work, "done")
    const recovery = makeRecovery({
      log,
      group,
      counters,
      schedule,
      handle: options.handle,
      dropped: isRevoked,
      deadLettered: (work) => complete(work, "dead_lettered")
    })

    /** Before a record's handler: its event, or the effect that finishes it (dropped, skipped, or dead-lettered). */
    const prepare = (work: Work): ProductEvent | Effect.Effect<void> => {
      if (isRevoked(work)) return Effect.void
      const decoded = decodeRecord(work.record)
      if (Either.isLeft(decoded)) return recovery.decodeFailed(work, decoded.left)
      if (!subscribes(contract, decoded.right.eventType)) {
        complete(work, "skipped")
        return Effect.void
      }
      return decoded.right
    }
    const laneLoop = makeLaneLoop<E, R>({
      handle: options.handle,
      prepare,
      recover: recovery.handlerFailed,
      stats,
      maxParked: options.maxParkedPerLane ?? 8,
      capacity: laneCapacity
    })

    const startLane = (index: number): Effect.Effect<Lane, never, R> =>
      Effect.gen(function*() {
        const queue = yield* Queue.bounded<Work | typeof endOfLane>(laneCapacity)
        stats.laneStarted()
        const fiber = yield* laneLoop(queue).pipe(
          Effect.ensuring(Effect.sync(() => stats.laneStopped())),
          Effect.forkIn(laneScope)
        )
        return (lanes[index] = { queue, fiber })
      })

    /**
     * Hands a chunk of records to their lanes: synchronously while the lanes have room, waiting
     * (back-pressure) only on a full lane, in record order.
     */
    const dispatch = (chunk: Chunk.Chunk<LogRecord>): Effect.Effect<void, never, R> => {
      const records = Chunk.toReadonlyArray(chunk)
      // A partition revoked while this chunk waited on a full lane may be assigned again meanwhile:
      // the rest of its records in the chunk are stale (the log delivers them again), never tracked.
      const revocationsAtStart = revocations
      let i = 0
      const offer = (lane: Lane, work: Work) => {
        stats.dispatched()
        return lane.queue.unsafeOffer(work) ? undefined : Effect.zipRight(Queue.offer(lane.queue, work), Effect.suspend(loop))
      }
      const loop = (): Effect.Effect<void, never, R> => {
        while (i < records.length) {
          const record = records[i++]!
          if (revoked.size > 0 || revocations !== revocationsAtStart) {
            const key = Watermarks.key(record.topic, record.partition)
            if (revoked.has(key) || (revokedAt.get(key) ?? 0) > revocationsAtStart) continue
          }
          const mark = watermarks.track(record)
          const eventType = record.headers["eventType"]
          if (eventType !== undefined && !subscribes(contract, eventType)) {
            mark.finish(record.offset)
            counters.skipped(eventTypeLabel(record))
            continue
          }
          const work = new Work(record, mark, done)
          const index = laneOf(record.key, laneCount)
          const lane = lanes[index]
          if (lane === undefined) {
            return Effect.flatMap(startLane(index), (lane) => offer(lane, work) ?? Effect.suspend(loop))
          }
          const blocked = offer(lane, work)
          if (blocked !== undefined) return blocked
        }
        return Effect.void
      }
      return Effect.suspend(loop)
    }

    /** Revocations so far, and the count at each partition's last revocation. */
    let revocations = 0
    const revokedAt = new Map<string, number>()

    const revoke = (partitions: ReadonlyArray<TopicPartition>) =>
      Effect.gen(function*() {
        revocations++
        const marks = partitions.flatMap((tp) => {
          revoked.add(Watermarks.key(tp.topic, tp.partition))
          revokedAt.set(Watermarks.key(tp.topic, tp.partition), revocations)
          const mark = watermarks.get(tp.topic, tp.partition)
          return mark === undefined ? [] : [mark]
        })
        if (options.onRevoke) yield* options.onRevoke(partitions)
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
        rebalance._tag === "Revoked"
          ? revoke(rebalance.partitions)
          : Effect.sync(() => rebalance.partitions.forEach((tp) => revoked.delete(Watermarks.key(tp.topic, tp.partition))))
      ),
      Effect.forkScoped
    )
    const shutdownTimeout = options.shutdownTimeout ?? Duration.seconds(30)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const open = lanes.filter((lane) => lane !== undefined)
        const drained = yield* Effect.forEach(
          open,
          (lane) => Queue.offer(lane.queue, endOfLane).pipe(Effect.zipRight(Fiber.await(lane.fiber))),
          { concurrency: "unbounded", discard: true }
        ).pipe(Effect.interruptible, Effect.timeoutOption(shutdownTimeout))
        if (Option.isNone(drained)) {
          yield* Effect.logWarning(`shutdown: ${stats.inFlight} records unfinished after ${Duration.format(shutdownTimeout)}`)
        }
        yield* Effect.forEach(open, (lane) => Fiber.interrupt(lane.fiber), { discard: true })
        if (options.onDrain) {
          const settled = yield* options.onDrain.pipe(Effect.interruptible, Effect.timeoutOption(shutdownTimeout))
          if (Option.isNone(settled)) yield* Effect.logWarning("shutdown: deferred work not settled in time; it will be redelivered")
        }
        yield* commit()
        yield* updateLag
      }).pipe(Effect.withSpan("ConsumerEngine.shutdown"))
    )

    yield* commit().pipe(
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
