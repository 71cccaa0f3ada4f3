import { Cause, Deferred, Effect, Exit, FiberId, FiberMap, Option } from "effect"
import type { LaneBuffer } from "./LaneBuffer.js"
import type { EngineStats } from "./Lanes.js"
import type { Work } from "./Work.js"

export interface ParkingOptions<R> {
  /** Sellers parked at once in this lane at most. */
  readonly maxParked: number
  /** Records waiting behind a parked seller at most. */
  readonly capacity: number
  readonly stats: EngineStats
  /** The lane's buffer: told how many sellers are parked, so that the lane is not taken for idle. */
  readonly buffer: LaneBuffer
  /** The parked sellers' fibers, keyed by their parking: each leaves the map when it ends. */
  readonly fibers: FiberMap.FiberMap<Parked, void, never>
  /** A later record of a parked seller, handled fully: decode, handler, retries, dead letter. */
  readonly process: (work: Work) => Effect.Effect<void, never, R>
}

/** A seller whose record is being retried, and its later records waiting, in order, behind it. */
export interface Parked {
  readonly key: string | null
  readonly pending: Array<Work>
  /** Resolved when `pending` has room again, for a lane waiting on a full one. */
  room: Deferred.Deferred<void> | undefined
}

const signal = (deferred: Deferred.Deferred<void> | undefined) => {
  if (deferred !== undefined) Deferred.unsafeDone(deferred, Exit.void)
}

const retriable = <E extends { readonly retriable: boolean }>(cause: Cause.Cause<E>): boolean => {
  const failure = Cause.failureOption(cause)
  return Option.isSome(failure) && failure.value.retriable
}

/**
 * Per-seller parking inside one lane. A record that fails retriably is handed, with its retries, to
 * a fiber of its seller, and the lane goes on with other sellers' records; later records of a
 * parked seller are appended to that seller's queue and handled in order by its fiber, which
 * un-parks the seller once the queue is empty. Bounded: at most `maxParked` sellers, `capacity`
 * records each; past either bound the lane waits for room (back-pressure).
 * Used by its lane's fiber only; parked fibers live in a `FiberMap` of the lane's scope.
 */
export class LaneParking<E extends { readonly retriable: boolean }, R> {
  private readonly parked = new Map<string | null, Parked>()
  /** Resolved when a seller un-parks, for a lane waiting on a free slot. */
  private slot: Deferred.Deferred<void> | undefined

  constructor(private readonly options: ParkingOptions<R>) {}

  /** Whether the seller is parked: its records must then be `append`ed, not processed. */
  isParked(key: string | null): boolean {
    return this.parked.size > 0 && this.parked.has(key)
  }

  /**
   * Queues a record behind its parked seller: undefined once queued; else an effect that waits
   * until the queue has room or the seller un-parked, after which the lane tries the record again.
   */
  append(work: Work): Effect.Effect<void> | undefined {
    const parked = this.parked.get(work.record.key)
    if (parked === undefined) return Effect.void
    if (parked.pending.length < this.options.capacity) {
      parked.pending.push(work)
      return undefined
    }
    return Deferred.await(parked.room ??= Deferred.unsafeMake<void>(FiberId.none))
  }

  /**
   * After a record's first attempt failed with `cause`; `recover` retries it, then it is done or
   * dead-lettered. A retriable failure parks its seller (true: the parked fiber owns the record now),
   * waiting for a free slot if needed; any other is recovered in the lane (false): dead-lettered at
   * once. With `maxParked` 0 nothing is parked: retries hold the lane.
   */
  failed(work: Work, cause: Cause.Cause<E>, recover: Effect.Effect<void, never, R>): Effect.Effect<boolean, never, R> {
    if (this.options.maxParked < 1 || !retriable(cause)) return Effect.as(recover, false)
    const park: Effect.Effect<boolean, never, R> = Effect.suspend(() => {
      if (this.parked.size >= this.options.maxParked) {
        return Effect.zipRight(Deferred.await(this.slot ??= Deferred.unsafeMake<void>(FiberId.none)), park)
      }
      const parked: Parked = { key: work.record.key, pending: [], room: undefined }
      this.parked.set(parked.key, parked)
      this.options.buffer.parked = this.parked.size
      return Effect.as(FiberMap.run(this.options.fibers, parked, this.runParked(parked, work, recover)), true)
    })
    return park
  }

  private runParked(parked: Parked, first: Work, recover: Effect.Effect<void, never, R>): Effect.Effect<void, never, R> {
    const { process, stats } = this.options
    let current: Work | undefined = first
    const afterItem = Effect.suspend(() => {
      current = undefined
      stats.finished()
      return next
    })
    const next: Effect.Effect<void, never, R> = Effect.suspend(() => {
      const work = parked.pending.shift()
      if (parked.room !== undefined) {
        signal(parked.room)
        parked.room = undefined
      }
      if (work === undefined) {
        this.unpark(parked)
        return Effect.void
      }
      current = work
      return Effect.zipRight(process(work), afterItem)
    })
    // Counted as started exactly when its stop is sure to be counted, even if interrupted at once.
    return Effect.uninterruptibleMask((restore) => {
      stats.parkedStarted()
      return Effect.ensuring(
        restore(Effect.zipRight(recover, afterItem)),
        Effect.sync(() => {
          if (current !== undefined) stats.finished()
          stats.parkedStopped()
          this.unpark(parked)
        })
      )
    })
  }

  private unpark(parked: Parked): void {
    if (this.parked.get(parked.key) !== parked) return
    this.parked.delete(parked.key)
    this.options.buffer.parked = this.parked.size
    signal(this.slot)
    this.slot = undefined
  }

  /** Waits for every parked seller to finish its queue (at shutdown, once no more records come). */
  get awaitAll(): Effect.Effect<void> {
    return FiberMap.awaitEmpty(this.options.fibers)
  }

  /** Stops every parked fiber: their records stay unfinished, so uncommitted. */
  get interruptAll(): Effect.Effect<void> {
    return FiberMap.clear(this.options.fibers)
  }
}
