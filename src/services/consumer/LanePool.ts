import { Duration, Effect, ExecutionStrategy, Exit, Fiber, Option, Scope } from "effect"
import { type ConsumerContract, retrySchedule, subscribes } from "../../domain/Consumers.js"
import type { EventLog } from "../EventLog.js"
import { decodeRecord } from "./Decode.js"
import type { EngineMetrics, Outcome } from "./EngineMetrics.js"
import { type ChunkItem, type Handle, handleEach, type HandleChunk } from "./Handler.js"
import { LaneBuffer } from "./LaneBuffer.js"
import { makeLaneLoop, type Prepared } from "./LaneLoop.js"
import type { EngineStats } from "./Lanes.js"
import { makeRecovery } from "./Recovery.js"
import type { Revocations } from "./Revocations.js"
import { traceSegments } from "./Tracing.js"
import type { Work } from "./Work.js"

/** What of the engine's options the lanes use (see `ConsumerEngine.RunOptions`). */
export interface LanePoolOptions<E extends { readonly retriable: boolean }, R> {
  readonly contract: ConsumerContract
  readonly handle: Handle<E, R>
  readonly handleChunk: HandleChunk<E, R> | undefined
  readonly onDrain: Effect.Effect<void> | undefined
  readonly laneCapacity: number
  readonly parkedCapacity: number
  readonly maxParkedPerLane: number
  readonly shutdownTimeout: Duration.DurationInput
}

interface Lane {
  readonly buffer: LaneBuffer
  readonly fiber: Fiber.RuntimeFiber<void>
}

/**
 * The engine's lanes: each a buffer and a fiber (in a scope of its own, closed after the
 * subscription's) running the lane loop with the engine's decode, handler and recovery, started on
 * first use. Also how a record is finished, and, for a handler without a chunk entry point, how the
 * dispatcher handles a record itself while its lane is idle (`handleNow`).
 */
export const makeLanePool = <E extends { readonly retriable: boolean }, R>(
  options: LanePoolOptions<E, R>,
  engine: {
    readonly log: EventLog["Type"]
    readonly counters: EngineMetrics
    readonly stats: EngineStats
    readonly revocations: Revocations
  }
) =>
  Effect.gen(function*() {
    const { contract, handle, handleChunk } = options
    const { counters, revocations, stats } = engine
    const laneScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const lanes: Array<Lane | undefined> = []
    const isRevoked = (work: Work) => revocations.isRevoked(work)

    /** Counts a record as finished: for the commit watermark and the metrics. */
    const complete = (work: Work, outcome: Outcome): void => {
      work.mark.finish(work.record.offset)
      counters.finished(work.record, outcome)
    }
    /** A record's handling succeeded (`deferred`: when its deferral was released, outside any chunk: counted now). */
    const done = (work: Work, deferred: boolean): void => {
      complete(work, "done")
      if (deferred) counters.flush()
    }
    const recovery = makeRecovery({
      log: engine.log,
      group: contract.group,
      counters,
      schedule: retrySchedule(contract.retry),
      handle,
      dropped: isRevoked,
      deadLettered: (work) => complete(work, "dead_lettered")
    })

    const prepare = (work: Work): Prepared => {
      if (isRevoked(work)) return undefined
      if (work.undecodable !== undefined) return recovery.decodeFailed(work, work.undecodable)
      const decoded = decodeRecord(work.record)
      if (decoded._tag === "Left") return recovery.decodeFailed(work, decoded.left)
      if (!subscribes(contract, decoded.right.eventType)) {
        complete(work, "skipped")
        return undefined
      }
      return decoded.right
    }

    /**
     * The dispatcher's plain-code path, for a record whose lane is idle: decoded and handled at once;
     * done there when the handler's effect is already complete (as a synchronous handler's is). An
     * effect still to run, a failure or a decode failure goes to the lane (dead letters and retries
     * live there) with what was found here (`Work.first`, `Work.undecodable`), which then holds the
     * seller's later records behind it.
     */
    const handleNow = (work: Work): boolean => {
      const decoded = decodeRecord(work.record)
      if (decoded._tag === "Left") {
        work.undecodable = decoded.left
        return false
      }
      const event = decoded.right
      if (!subscribes(contract, event.eventType)) {
        complete(work, "skipped")
        return true
      }
      let effect: Effect.Effect<void, E, R>
      try {
        effect = handle(event, work.record, work.deferFor(1))
      } catch (defect) {
        // A handler that throws instead of returning an effect: a defect of that record, as one inside its effect is.
        effect = Exit.die(defect)
      }
      if (Exit.isExit(effect) && effect._tag === "Success") {
        work.settle()
        return true
      }
      work.first = { event, effect }
      return false
    }

    const droppedItem = (item: ChunkItem) => revocations.isRevokedRecord(item.record)
    const laneLoop = makeLaneLoop<E, R>({
      handle,
      runSegment: traceSegments(
        contract.group,
        handleChunk === undefined ? handleEach(handle, droppedItem) : (items) => handleChunk(items, droppedItem)
      ),
      prepare,
      dropped: isRevoked,
      recover: recovery.handlerFailed,
      flushCounts: () => counters.flush(),
      stats,
      maxParked: options.maxParkedPerLane,
      capacity: options.parkedCapacity
    })

    const start = (index: number): Effect.Effect<LaneBuffer, never, R> =>
      Effect.gen(function*() {
        const buffer = new LaneBuffer(options.laneCapacity)
        stats.laneStarted()
        const fiber = yield* laneLoop(buffer).pipe(
          Effect.ensuring(Effect.sync(() => stats.laneStopped())),
          Effect.forkIn(laneScope)
        )
        lanes[index] = { buffer, fiber }
        return buffer
      })

    /** At shutdown: the lanes finish what they hold within `shutdownTimeout`, then deferred work settles. */
    const drain = Effect.gen(function*() {
      const { shutdownTimeout } = options
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

    return {
      buffer: (index: number): LaneBuffer | undefined => lanes[index]?.buffer,
      start,
      done,
      handleNow: handleChunk === undefined ? handleNow : undefined,
      drain
    }
  })
