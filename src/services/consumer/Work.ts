import type { Effect } from "effect"
import type { ProductEvent } from "../../domain/ProductEvent.js"
import type { DecodeError } from "../DeadLetters.js"
import type { LogRecord } from "../EventLog.js"
import type { PartitionWatermark } from "./Watermark.js"

/**
 * Called by a handler whose work completes later (e.g. once a batch is uploaded): the record then
 * counts as finished, for the commit watermark, only when the returned function is called.
 * Only the successful attempt's deferral counts.
 */
export type Defer = () => () => void

/** A record handed to a lane: its attempts, and which one deferred its completion. */
export class Work {
  attempts = 1
  deferredBy = 0
  completed = false
  /**
   * The first attempt, when the dispatcher called the handler itself and the effect it returned did
   * not complete at once (or failed): the lane runs it, instead of calling the handler again.
   */
  first: { readonly event: ProductEvent; readonly effect: Effect.Effect<void, unknown, unknown> } | undefined = undefined
  /** Why the record is not an event, when the dispatcher decoded it already: the lane dead-letters it without decoding again. */
  undecodable: DecodeError | undefined = undefined

  constructor(
    readonly record: LogRecord,
    readonly mark: PartitionWatermark,
    /** Counts the record as done: called once, in its lane or (`deferred`) when a deferral is released. */
    private readonly done: (work: Work, deferred: boolean) => void
  ) {}

  /** The `defer` given to one attempt of the handler. */
  deferFor(attempt: number): Defer {
    return () => {
      this.deferredBy = attempt
      return () => {
        if (this.deferredBy === attempt) this.finish(true)
      }
    }
  }

  /** Starts another attempt: an earlier attempt's deferral no longer counts. */
  nextAttempt(): number {
    this.deferredBy = 0
    return ++this.attempts
  }

  /** After a successful attempt: done now, unless that attempt deferred its completion. */
  settle(): void {
    if (this.deferredBy !== this.attempts) this.finish(false)
  }

  /** Given up on (dead-lettered): a deferral of a failed attempt must never count it as done. */
  abandon(): void {
    this.deferredBy = 0
  }

  private finish(deferred: boolean): void {
    if (this.completed) return
    this.completed = true
    this.done(this, deferred)
  }
}
