import { Deferred, Effect, Exit, FiberId } from "effect"
import type { Work } from "./Work.js"

const signal = (deferred: Deferred.Deferred<void> | undefined): undefined => {
  if (deferred !== undefined) Deferred.unsafeDone(deferred, Exit.void)
  return undefined
}

/**
 * A lane's inbox: a plain array the dispatcher appends to and the lane takes whole, as one chunk.
 * Bounded: the records queued plus those the lane holds and has not released count against
 * `capacity`; the dispatcher waits (`waitForRoom`) once it is reached. Wake-ups cost one Deferred
 * per chunk, not per record.
 */
export class LaneBuffer {
  private queued: Array<Work> = []
  /** Taken by the lane and not released yet. */
  held = 0
  /** Sellers of this lane parked (retrying off the lane), kept by the lane's parking. */
  parked = 0
  private ended = false
  private work: Deferred.Deferred<void> | undefined
  private room: Deferred.Deferred<void> | undefined

  constructor(readonly capacity: number) {}

  /** Queues a record; false when the lane is full afterwards, so the dispatcher must wait for room. */
  push(work: Work): boolean {
    this.queued.push(work)
    this.work = signal(this.work)
    return this.queued.length + this.held < this.capacity
  }

  /** Resolves once the lane has room for another record. */
  readonly waitForRoom: Effect.Effect<void> = Effect.suspend(() =>
    this.queued.length + this.held < this.capacity
      ? Effect.void
      : Deferred.await(this.room ??= Deferred.unsafeMake<void>(FiberId.none))
  )

  /** Everything queued, as one chunk (possibly empty); the lane holds it until it `release`s each record. */
  take(): ReadonlyArray<Work> {
    const chunk = this.queued
    if (chunk.length === 0) return chunk
    this.queued = []
    this.held += chunk.length
    return chunk
  }

  /** The lane is done with `count` records it took (finished, or handed to a parked seller). */
  release(count: number): void {
    this.held -= count
    if (this.room !== undefined && this.queued.length + this.held < this.capacity) this.room = signal(this.room)
  }

  /** Resolves once records are queued or the lane was told to end. */
  readonly waitForWork: Effect.Effect<void> = Effect.suspend(() =>
    this.queued.length > 0 || this.ended
      ? Effect.void
      : Deferred.await(this.work ??= Deferred.unsafeMake<void>(FiberId.none))
  )

  /** No more records will come: the lane stops once it has handled what it has (at shutdown). */
  end(): void {
    this.ended = true
    this.work = signal(this.work)
  }

  /** Nothing queued, in hand or parked: a record of this lane may be handled before the lane sees it. */
  get idle(): boolean {
    return this.queued.length === 0 && this.held === 0 && this.parked === 0
  }

  get isEnded(): boolean {
    return this.ended && this.queued.length === 0
  }
}
