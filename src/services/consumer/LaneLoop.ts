import { type Cause, Effect, type Exit, FiberMap } from "effect"
import type { ProductEvent } from "../../domain/ProductEvent.js"
import type { ChunkItem, Handle } from "./Handler.js"
import type { LaneBuffer } from "./LaneBuffer.js"
import type { EngineStats } from "./Lanes.js"
import { LaneParking, type Parked } from "./Parking.js"
import type { Work } from "./Work.js"

/** A record's state before its handler: its event, finished already (undefined), or the effect that finishes it. */
export type Prepared = ProductEvent | undefined | Effect.Effect<void>

/** Runs a segment of a chunk: one result per item (`null`: dropped, `undefined`: not attempted). */
export type RunSegment<E, R> = (
  items: ReadonlyArray<ChunkItem>
) => Effect.Effect<ReadonlyArray<Exit.Exit<void, E> | undefined | null>, never, R>

export interface LaneLoopOptions<E extends { readonly retriable: boolean }, R> {
  readonly handle: Handle<E, R>
  readonly runSegment: RunSegment<E, R>
  /** Decodes a record, or finishes it (dropped, skipped: undefined; dead-lettered: an effect). */
  readonly prepare: (work: Work) => Prepared
  /** Whether a record's partition was revoked: it is left alone, neither done nor dead-lettered. */
  readonly dropped: (work: Work) => boolean
  /** After a failed first attempt: retries, then done or dead-lettered. */
  readonly recover: (work: Work, event: ProductEvent, first: Cause.Cause<E>) => Effect.Effect<void, never, R>
  /** Counts records of a chunk finished (for the metrics), once per segment. */
  readonly flushCounts: () => void
  readonly stats: EngineStats
  /** Parked sellers per lane at most. */
  readonly maxParked: number
  /** Records queued per parked seller at most. */
  readonly capacity: number
}

/**
 * A lane: takes everything queued as one chunk and decodes it in plain code; the records that need
 * no effect of their own form segments, each handed to the handler at once (`runSegment`). A
 * retriable failure parks its seller (Parking.ts): its retries and its later records go to a fiber
 * of that seller, and the lane goes on. Dead letters and waits for room happen between segments,
 * so every seller's records keep their order.
 */
export const makeLaneLoop = <E extends { readonly retriable: boolean }, R>(options: LaneLoopOptions<E, R>) => {
  const { dropped, handle, prepare, recover, runSegment, stats } = options

  /** A parked seller's later record: handled with its retries and dead letter where it is. */
  const processParked = (work: Work): Effect.Effect<void, never, R> => {
    const event = prepare(work)
    if (event === undefined) return Effect.void
    if (Effect.isEffect(event)) return event
    return Effect.matchCauseEffect(handle(event, work.record, work.deferFor(1)), {
      onSuccess: () => Effect.sync(() => work.settle()),
      onFailure: (cause) => recover(work, event, cause)
    })
  }

  return (buffer: LaneBuffer): Effect.Effect<void, never, R> => Effect.scoped(Effect.flatMap(FiberMap.make<Parked, void, never>(), (fibers) => {
    const parking = new LaneParking<E, R>({
      maxParked: options.maxParked,
      capacity: options.capacity,
      stats,
      buffer,
      fibers,
      process: processParked
    })
    const finished = (): void => {
      buffer.release(1)
      stats.finished()
    }

    /** A first attempt failed: parks the seller (the parked fiber finishes the record) or recovers here. */
    const failed = (work: Work, event: ProductEvent, cause: Cause.Cause<E>) =>
      Effect.map(parking.failed(work, cause, recover(work, event, cause)), (parked) => {
        if (parked) buffer.release(1)
        else finished()
      })

    /**
     * After a segment ran: each record settled, parked or recovered, in order; the records left
     * unattempted after a failure of their seller (or after the first failure) go through the lane again.
     */
    const settle = (
      items: ReadonlyArray<ChunkItem>,
      works: ReadonlyArray<Work>,
      results: ReadonlyArray<Exit.Exit<void, E> | undefined | null>
    ): Effect.Effect<void, never, R> => {
      let k = 0
      let again: Array<Work> | undefined
      const step = (): Effect.Effect<void, never, R> => {
        while (k < works.length) {
          const work = works[k]!
          const result = results[k]
          const { event } = items[k++]!
          if (result === null) {
            finished()
          } else if (result === undefined) {
            ;(again ??= []).push(work)
          } else if (result._tag === "Success") {
            work.settle()
            finished()
          } else if (parking.isParked(work.record.key)) {
            // A later failure of a seller parked by an earlier one in this segment: it queues behind it.
            ;(again ??= []).push(work)
          } else {
            return Effect.zipRight(failed(work, event, result.cause), Effect.suspend(step))
          }
        }
        options.flushCounts()
        return again === undefined ? Effect.void : runChunk(again)
      }
      return step()
    }

    /** A record whose first attempt the dispatcher started (`Work.first`): that effect is run, not the handler again. */
    const runFirst = (work: Work): Effect.Effect<void, never, R> => {
      const { effect, event } = work.first!
      work.first = undefined
      if (dropped(work)) return Effect.sync(finished)
      return Effect.flatMap(Effect.exit(effect as Effect.Effect<void, E, R>), (exit) => {
        if (exit._tag === "Failure") return failed(work, event, exit.cause)
        work.settle()
        finished()
        return Effect.void
      })
    }

    function runChunk(chunk: ReadonlyArray<Work>): Effect.Effect<void, never, R> {
      let i = 0
      let works: Array<Work> = []
      let items: Array<ChunkItem> = []
      /** The segment so far, handled, then `after`. */
      const flush = (after: Effect.Effect<void, never, R>): Effect.Effect<void, never, R> => {
        if (works.length === 0) return after
        const segment = works
        const segmentItems = items
        works = []
        items = []
        return runSegment(segmentItems).pipe(
          Effect.flatMap((results) => settle(segmentItems, segment, results)),
          Effect.zipRight(after)
        )
      }
      const scan = (): Effect.Effect<void, never, R> => {
        while (i < chunk.length) {
          const work = chunk[i]!
          if (work.first !== undefined) {
            // Never parked: it was queued on an idle lane, so it is the first of its seller there.
            i++
            return flush(Effect.zipRight(runFirst(work), Effect.suspend(scan)))
          }
          if (parking.isParked(work.record.key)) {
            if (parking.append(work) === undefined) {
              i++
              buffer.release(1)
              continue
            }
            // Its seller's queue is full: what is gathered goes first, then the lane waits for room.
            return flush(Effect.suspend(() => {
              const wait = parking.append(work)
              if (wait === undefined) {
                i++
                buffer.release(1)
                return scan()
              }
              return Effect.zipRight(wait, Effect.suspend(scan))
            }))
          }
          const prepared = prepare(work)
          i++
          if (prepared === undefined) {
            finished()
          } else if (Effect.isEffect(prepared)) {
            return flush(Effect.zipRight(prepared, Effect.suspend(() => {
              finished()
              return scan()
            })))
          } else {
            works.push(work)
            items.push({ event: prepared, record: work.record, defer: work.deferFor(1) })
          }
        }
        return flush(Effect.sync(options.flushCounts))
      }
      return scan()
    }

    const loop: Effect.Effect<void, never, R> = Effect.suspend(() => {
      const chunk = buffer.take()
      if (chunk.length > 0) return Effect.zipRight(runChunk(chunk), loop)
      if (buffer.isEnded) return parking.awaitAll
      return Effect.zipRight(buffer.waitForWork, loop)
    })
    return Effect.ensuring(
      loop,
      Effect.zipRight(parking.interruptAll, Effect.sync(() => stats.abandoned(buffer.held)))
    )
  }))
}
