import { Cause, Clock, Duration, Effect, Either, ExecutionStrategy, Exit, Fiber, Layer, Option, Queue, Schedule, Scope, Stream } from "effect"
import { type ConsumerContract, deadLetterTopic, productEventsTopic, retrySchedule, subscribes } from "../domain/Consumers.js"
import { decodeProductEvent, eventTypes, type ProductEvent } from "../domain/ProductEvent.js"
import { type DeadLetterCause, deadLetterMessage, DecodeError, describeFailure, formatParseError } from "./consumer/DeadLetters.js"
import { EngineStats, laneOf } from "./consumer/Lanes.js"
import { type PartitionWatermark, Watermarks } from "./consumer/Watermark.js"
import { EventLog, EventLogError, type LogRecord, type TopicPartition } from "./EventLog.js"
import { Metrics } from "./Metrics.js"

export { EngineStats, laneOf } from "./consumer/Lanes.js"

/**
 * The consumer engine: runs one consumer's contract against `product-events`.
 *
 * - Records whose `eventType` header the contract does not subscribe to are skipped undecoded.
 * - Records are spread over a fixed number of lanes by a hash of their key (sellerId): a lane
 *   handles its records one at a time in arrival order, lanes run concurrently, and each lane's
 *   queue is bounded, so a full lane holds back the whole subscription (back-pressure).
 * - A decode failure is dead-lettered at once; a handler failure is retried by the contract's
 *   schedule while retriable (blocking only its lane), then dead-lettered.
 * - Offsets are committed per partition up to the first unfinished record: periodically, on
 *   revocation and on shutdown (interruption), after the lanes drained within `shutdownTimeout`.
 */
/**
 * Called by a handler whose work completes later (e.g. once a batch is uploaded): the record then
 * counts as finished, for the commit watermark, only when the returned function is called.
 * Only the successful attempt's deferral counts.
 */
export type Defer = () => () => void

export interface RunOptions<E extends { readonly retriable: boolean }, R> {
  readonly contract: ConsumerContract
  readonly handle: (event: ProductEvent, record: LogRecord, defer: Defer) => Effect.Effect<void, E, R>
  /** Runs at shutdown after the lanes drained and before the final commit: settle deferred work here. */
  readonly onDrain?: Effect.Effect<void>
  /** Runs when partitions are revoked, before their finished prefix is committed: drop their deferred work. */
  readonly onRevoke?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Records handled concurrently at most. Default 64. */
  readonly lanes?: number
  /** Records queued per lane. Default 16. */
  readonly laneCapacity?: number
  /** Default 1 second. */
  readonly commitInterval?: Duration.DurationInput
  /** How long in-flight work may take to finish on shutdown. Default 30 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput
  /** Counters of live lanes and in-flight records, for tests and diagnostics. */
  readonly stats?: EngineStats
}

export const defaultLanes = 64

type Outcome = "done" | "skipped" | "dead_lettered"
interface Work {
  readonly record: LogRecord
  readonly mark: PartitionWatermark
}
interface Lane {
  readonly queue: Queue.Queue<Work | typeof endOfLane>
  readonly fiber: Fiber.RuntimeFiber<void>
}
const endOfLane = Symbol("endOfLane")

const knownEventTypes: ReadonlySet<string> = new Set(eventTypes)
/** Bounded label values: a header is untrusted input. */
const eventTypeLabel = (record: LogRecord) => {
  const eventType = record.headers["eventType"]
  return eventType !== undefined && knownEventTypes.has(eventType) ? eventType : "unknown"
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const decode = (record: LogRecord) =>
  Effect.try({
    try: () => JSON.parse(utf8.decode(record.value)) as unknown,
    catch: (e) => new DecodeError({ message: `not UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}` })
  }).pipe(
    Effect.flatMap((json) => decodeProductEvent(json)),
    Effect.mapError((e) => (e._tag === "ParseError" ? new DecodeError({ message: formatParseError(e) }) : e))
  )

/** A dead letter must get out: its record cannot be committed before. Retried until it does. */
const deadLetterRetry = Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("10 seconds")))

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

    const deadLetter = (record: LogRecord, reason: DeadLetterCause, failure: { message: string; tag: string }, attempts: number) =>
      Effect.gen(function*() {
        const failedAt = new Date(yield* Clock.currentTimeMillis)
        const message = deadLetterMessage(record, { reason, error: failure.message, errorTag: failure.tag, attempts, group, failedAt })
        yield* log.produce(deadLetterTopic(group), [message]).pipe(
          Effect.tapError((e) => Effect.logWarning("dead-letter produce failed; retrying", e)),
          Effect.retry(deadLetterRetry),
          Effect.orDie
        )
        metrics.deadLettered.inc({ group, reason })
        yield* Effect.logWarning(`dead-lettered ${record.topic}/${record.partition}@${record.offset}: ${reason}`).pipe(
          Effect.annotateLogs({ error: failure.message, attempts })
        )
      })

    const outcomeOf = (record: LogRecord, settle: (deferred: boolean) => void, finish: () => void): Effect.Effect<Outcome, never, R> =>
      Effect.gen(function*() {
        const decoded = yield* Effect.either(decode(record))
        if (Either.isLeft(decoded)) {
          yield* deadLetter(record, "decode-failed", { message: decoded.left.message, tag: decoded.left._tag }, 1)
          return "dead_lettered"
        }
        const event = decoded.right
        if (!subscribes(contract, event.eventType)) return "skipped"
        let attempts = 0
        let deferredBy = 0
        const exit = yield* Effect.suspend(() => {
          const attempt = ++attempts
          if (attempt > 1) metrics.retried.inc({ group })
          const defer: Defer = () => {
            deferredBy = attempt
            return () => {
              if (deferredBy === attempt) finish()
            }
          }
          return options.handle(event, record, defer)
        }).pipe(Effect.retry({ schedule, while: (e) => e.retriable }), Effect.exit)
        if (Exit.isSuccess(exit)) {
          settle(deferredBy === attempts)
          return "done"
        }
        deferredBy = 0
        // An interruption seen here is the handler's own: this fiber's would not resume it.
        const failure = Cause.failureOption(exit.cause)
        const reason = Option.isSome(failure) && failure.value.retriable ? "retries-exhausted" : "non-retriable"
        const described = Option.isSome(failure)
          ? describeFailure(failure.value)
          : { message: Cause.pretty(exit.cause), tag: Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect" }
        yield* deadLetter(record, reason, described, attempts)
        return "dead_lettered"
      }).pipe(Effect.withSpan("ConsumerEngine.process", {
        attributes: { group, partition: record.partition, offset: record.offset },
        captureStackTrace: false
      }))

    const process = ({ mark, record }: Work) =>
      Effect.gen(function*() {
        if (mark.revoked) return
        const complete = (outcome: Outcome) => {
          mark.finish(record.offset)
          metrics.consumed.inc({ group, event_type: eventTypeLabel(record), outcome })
          metrics.latency.observe({ group }, Math.max(0, Date.now() - record.timestamp) / 1000)
        }
        let deferred = false
        const outcome = yield* outcomeOf(record, (d) => (deferred = d), () => complete("done"))
        if (!deferred) complete(outcome)
      }).pipe(Effect.ensuring(Effect.sync(() => stats.finished())))

    const laneLoop = (queue: Lane["queue"]) =>
      Effect.gen(function*() {
        while (true) {
          const item = yield* Queue.take(queue)
          if (item === endOfLane) return
          yield* process(item)
        }
      })

    const laneFor = (key: string | null): Effect.Effect<Lane, never, R> => {
      const index = laneOf(key, laneCount)
      const existing = lanes[index]
      if (existing !== undefined) return Effect.succeed(existing)
      return Effect.gen(function*() {
        const queue = yield* Queue.bounded<Work | typeof endOfLane>(laneCapacity)
        stats.laneStarted()
        const fiber = yield* laneLoop(queue).pipe(
          Effect.ensuring(Effect.sync(() => stats.laneStopped())),
          Effect.forkIn(laneScope)
        )
        return (lanes[index] = { queue, fiber })
      })
    }

    const dispatch = (record: LogRecord) =>
      Effect.suspend(() => {
        if (revoked.has(Watermarks.key(record.topic, record.partition))) return Effect.void
        const mark = watermarks.track(record)
        const eventType = record.headers["eventType"]
        if (eventType !== undefined && !subscribes(contract, eventType)) {
          mark.finish(record.offset)
          metrics.consumed.inc({ group, event_type: eventTypeLabel(record), outcome: "skipped" })
          return Effect.void
        }
        return Effect.flatMap(laneFor(record.key), (lane) => {
          stats.dispatched()
          return Queue.offer(lane.queue, { record, mark })
        })
      })

    const revoke = (partitions: ReadonlyArray<TopicPartition>) =>
      Effect.gen(function*() {
        const marks = partitions.flatMap((tp) => {
          revoked.add(Watermarks.key(tp.topic, tp.partition))
          const mark = watermarks.get(tp.topic, tp.partition)
          return mark === undefined ? [] : [mark]
        })
        if (options.onRevoke) yield* options.onRevoke(partitions)
        yield* commit(marks)
        for (const mark of marks) {
          mark.revoked = true
          watermarks.forget(mark)
        }
      })

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
        if (options.onDrain) yield* options.onDrain
        yield* commit()
        yield* updateLag
      }).pipe(Effect.withSpan("ConsumerEngine.shutdown"))
    )

    yield* subscription.rebalances.pipe(
      Stream.runForEach((rebalance) =>
        rebalance._tag === "Revoked"
          ? revoke(rebalance.partitions)
          : Effect.sync(() => rebalance.partitions.forEach((tp) => revoked.delete(Watermarks.key(tp.topic, tp.partition))))
      ),
      Effect.forkScoped
    )
    yield* commit().pipe(
      Effect.zipRight(updateLag),
      Effect.repeat(Schedule.spaced(options.commitInterval ?? Duration.seconds(1))),
      Effect.forkScoped
    )

    yield* Stream.runForEach(subscription.records, dispatch)
    return yield* new EventLogError({ operation: "consume", cause: "the subscription's record stream ended" })
  }).pipe(Effect.scoped, Effect.annotateLogs({ service: "ConsumerEngine", group: options.contract.group }))

/** The engine as a layer: runs in the background for the layer's lifetime; closing it drains and commits. */
export const layer = <E extends { readonly retriable: boolean }, R = never>(
  options: RunOptions<E, R>
): Layer.Layer<never, never, EventLog | Metrics | R> =>
  Layer.scopedDiscard(
    run(options).pipe(
      Effect.tapErrorCause((cause) => Effect.logError("consumer stopped", cause)),
      Effect.forkScoped
    )
  )
