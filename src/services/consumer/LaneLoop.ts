import { type Cause, Effect, Queue } from "effect"
import type { ProductEvent } from "../../domain/ProductEvent.js"
import type { LogRecord } from "../EventLog.js"
import type { EngineStats } from "./Lanes.js"
import { LaneParking } from "./Parking.js"
import type { Defer, Work } from "./Work.js"

/** Tells a lane to stop once its parked sellers are done: at shutdown. */
export const endOfLane = Symbol("endOfLane")
export type LaneQueue = Queue.Queue<Work | typeof endOfLane>

export interface LaneLoopOptions<E extends { readonly retriable: boolean }, R> {
  readonly handle: (event: ProductEvent, record: LogRecord, defer: Defer) => Effect.Effect<void, E, R>
  /** Before a record's handler: its event, or the effect that finishes it (dropped, skipped, or dead-lettered). */
  readonly prepare: (work: Work) => ProductEvent | Effect.Effect<void>
  /** After a failed first attempt: retries, then done or dead-lettered. */
  readonly recover: (work: Work, event: ProductEvent, first: Cause.Cause<E>) => Effect.Effect<void, never, R>
  readonly stats: EngineStats
  /** Parked sellers per lane at most. */
  readonly maxParked: number
  /** Records queued per parked seller at most. */
  readonly capacity: number
}

/**
 * A lane: takes its records one at a time and runs each on the fast path (decoded synchronously,
 * one handler run). A retriable failure parks its seller (Parking.ts): its retries and its later
 * records go to a fiber of that seller, and the lane goes on. Its handlers and continuation are
 * built once per lane, not per record.
 */
export const makeLaneLoop = <E extends { readonly retriable: boolean }, R>(options: LaneLoopOptions<E, R>) => {
  const { handle, prepare, recover, stats } = options

  /** A parked seller's later record: handled with its retries and dead letter where it is. */
  const processParked = (work: Work): Effect.Effect<void, never, R> => {
    const event = prepare(work)
    if (Effect.isEffect(event)) return event
    return Effect.matchCauseEffect(handle(event, work.record, work.deferFor(1)), {
      onSuccess: () => Effect.sync(() => work.settle()),
      onFailure: (cause) => recover(work, event, cause)
    })
  }

  return (queue: LaneQueue): Effect.Effect<void, never, R> => {
    const parking = new LaneParking<E, R>({
      maxParked: options.maxParked,
      capacity: options.capacity,
      stats,
      process: processParked
    })
    let current: Work | undefined
    let event: ProductEvent
    const handled = {
      onSuccess: (): Effect.Effect<void> => {
        current!.settle()
        return Effect.void
      },
      onFailure: (cause: Cause.Cause<E>) =>
        Effect.map(parking.failed(current!, cause, recover(current!, event, cause)), (parked) => {
          if (parked) current = undefined // the parked fiber finishes it
        })
    }
    const process = (work: Work): Effect.Effect<void, never, R> => {
      const prepared = prepare(work)
      if (Effect.isEffect(prepared)) return prepared
      event = prepared
      return Effect.matchCauseEffect(handle(event, work.record, work.deferFor(1)), handled)
    }
    const take = (item: Work): Effect.Effect<void, never, R> => {
      if (parking.isParked(item.record.key)) {
        const wait = parking.append(item)
        return wait === undefined ? next : Effect.zipRight(wait, Effect.suspend(() => take(item)))
      }
      current = item
      return Effect.zipRight(process(item), afterItem)
    }
    const next: Effect.Effect<void, never, R> = Effect.flatMap(
      Queue.take(queue),
      (item) => item === endOfLane ? parking.awaitAll : take(item)
    )
    const afterItem = Effect.suspend(() => {
      if (current !== undefined) stats.finished()
      current = undefined
      return next
    })
    return Effect.ensuring(
      next,
      Effect.zipRight(parking.interruptAll, Effect.sync(() => {
        if (current !== undefined) stats.finished()
      }))
    )
  }
}
