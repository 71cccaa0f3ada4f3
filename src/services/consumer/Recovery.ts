import { type Cause, Clock, Effect, type Schedule } from "effect"
import type { ConsumerGroup } from "../../domain/Consumers.js"
import type { ProductEvent } from "../../domain/ProductEvent.js"
import type { EventLog, LogRecord } from "../EventLog.js"
import type { DeadLetterReason } from "../../domain/DeadLetter.js"
import { deadLetterReason, describeCause, type FailureDescription, sendDeadLetters } from "../DeadLetters.js"
import type { EngineMetrics } from "./EngineMetrics.js"
import type { Defer, Work } from "./Work.js"

export interface RecoveryOptions<E extends { readonly retriable: boolean }, R> {
  readonly log: EventLog["Type"]
  readonly group: ConsumerGroup
  readonly counters: EngineMetrics
  readonly schedule: Schedule.Schedule<unknown, unknown>
  readonly handle: (event: ProductEvent, record: LogRecord, defer: Defer) => Effect.Effect<void, E, R>
  /** Whether a record's partition was revoked: its retries then stop, neither done nor dead-lettered. */
  readonly dropped?: (work: Work) => boolean
  /** Counts a record as dead-lettered (watermark and metrics). */
  readonly deadLettered: (work: Work) => void
}

/** The slow paths of the engine: dead letters, and the contract's retries of a failed handler. */
export const makeRecovery = <E extends { readonly retriable: boolean }, R>(options: RecoveryOptions<E, R>) => {
  const { counters, group, log, schedule } = options

  const deadLetter = (record: LogRecord, reason: DeadLetterReason, failure: FailureDescription, attempts: number) =>
    Effect.gen(function*() {
      const failedAt = new Date(yield* Clock.currentTimeMillis)
      yield* sendDeadLetters(log, group, [record], { reason, error: failure.message, errorTag: failure.tag, attempts, failedAt })
      counters.deadLettered(reason)
      yield* Effect.logWarning(`dead-lettered ${record.topic}/${record.partition}@${record.offset}: ${reason}`).pipe(
        Effect.annotateLogs({ error: failure.message, attempts })
      )
    })

  const spanOf = (name: string, record: LogRecord) =>
    Effect.withSpan(name, { attributes: { group, partition: record.partition, offset: record.offset }, captureStackTrace: false })

  /** A record that is not a valid event: dead-lettered at once. */
  const decodeFailed = (work: Work, failure: { readonly message: string; readonly _tag: string }): Effect.Effect<void> =>
    deadLetter(work.record, "decode-failed", { message: failure.message, tag: failure._tag }, 1).pipe(
      Effect.tap(() => options.deadLettered(work)),
      spanOf("ConsumerEngine.deadLetter", work.record)
    )

  /**
   * After a failed first attempt: the contract's retries (that failure replayed as the schedule's
   * first input, so the schedule sees exactly the attempts that ran), then a dead letter.
   */
  const handlerFailed = (work: Work, event: ProductEvent, first: Cause.Cause<E>): Effect.Effect<void, never, R> => {
    let replay = true
    let dropped = false
    const { record } = work
    return Effect.suspend(() => {
      if (replay) {
        replay = false
        return Effect.failCause(first)
      }
      if (options.dropped?.(work)) {
        dropped = true
        return Effect.void
      }
      const attempt = work.nextAttempt()
      counters.retried()
      return options.handle(event, record, work.deferFor(attempt))
    }).pipe(
      Effect.retry({ schedule, while: (e) => e.retriable }),
      Effect.matchCauseEffect({
        onSuccess: () =>
          Effect.sync(() => {
            if (!dropped) work.settle()
          }),
        onFailure: (cause) => {
          work.abandon()
          // An interruption seen here is the handler's own: this fiber's would not resume it.
          return deadLetter(record, deadLetterReason(cause), describeCause(cause), work.attempts).pipe(
            Effect.tap(() => options.deadLettered(work))
          )
        }
      }),
      spanOf("ConsumerEngine.recover", record)
    )
  }

  return { decodeFailed, handlerFailed }
}
