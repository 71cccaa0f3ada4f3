import { Cause, Data, Duration, Effect, Option, Schedule } from "effect"
import { type ConsumerGroup, deadLetterTopic } from "../domain/Consumers.js"
import { deadLetterHeaders, type DeadLetterReason } from "../domain/DeadLetter.js"
import { acknowledgedWithin, type EventLog, EventLogError, type Headers, type LogRecord, type OutgoingMessage } from "./EventLog.js"

/** A record whose value is not a valid event: not retried, dead-lettered at once. */
export class DecodeError extends Data.TaggedError("DecodeError")<{ readonly message: string }> {}

export interface DeadLetterInfo {
  readonly reason: DeadLetterReason
  readonly error: string
  readonly errorTag: string
  readonly attempts: number
  readonly group: string
  readonly failedAt: Date
}

/** The original key, bytes and headers, plus headers saying why, where from and after how many attempts. */
export const deadLetterMessage = (record: LogRecord, info: DeadLetterInfo): OutgoingMessage => {
  const headers: Headers = {
    ...record.headers,
    [deadLetterHeaders.error]: info.error,
    [deadLetterHeaders.reason]: info.reason,
    [deadLetterHeaders.errorTag]: info.errorTag,
    [deadLetterHeaders.sourceTopic]: record.topic,
    [deadLetterHeaders.sourcePartition]: String(record.partition),
    [deadLetterHeaders.sourceOffset]: String(record.offset),
    [deadLetterHeaders.attempts]: String(info.attempts),
    [deadLetterHeaders.consumerGroup]: info.group,
    [deadLetterHeaders.failedAt]: info.failedAt.toISOString()
  }
  return { key: record.key ?? "", value: record.value, headers }
}

/** A dead letter must get out: its record cannot be committed before. Retried until it does. */
const deadLetterRetry = Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("10 seconds")))

/**
 * A produce of dead letters (sent, or replayed) fails unless acknowledged within 30 s: a broker that
 * stops answering then shows in the log every attempt, and the attempt leaves the log's send queue to
 * whatever else produces through it (the gateway, embedded).
 */
export const acknowledgedInTime = acknowledgedWithin(Duration.seconds(30))

/**
 * The dead-letter sink of a consumer group: the consumer engine's recovery and the analytics
 * pipeline (a batch given up on) both send their dead letters through it. The records, each with why,
 * go to `product-events.dlq.<group>` in one produce, retried until it succeeds.
 */
export const sendDeadLetters = (
  log: EventLog["Type"],
  group: ConsumerGroup,
  records: ReadonlyArray<LogRecord>,
  info: Omit<DeadLetterInfo, "group">
): Effect.Effect<void> =>
  log.produce(deadLetterTopic(group), records.map((record) => deadLetterMessage(record, { ...info, group }))).pipe(
    // Even a defect of the log's client, not only a broker's refusal, is retried: the records cannot be
    // finished before their dead letters are out, and no caller has anything better to do than wait.
    Effect.catchAllDefect((defect) => Effect.fail(new EventLogError({ operation: "produce", cause: defect }))),
    acknowledgedInTime,
    Effect.tapError((e) => Effect.logWarning("dead-letter produce failed; retrying", e)),
    Effect.retry(deadLetterRetry),
    Effect.orDie,
    Effect.withSpan("DeadLetters.send", { attributes: { group, records: records.length } })
  )

/** What a consumer's failure says about itself: whether another attempt may help, and why it is dead-lettered if not. */
export interface ConsumerFailure {
  readonly retriable: boolean
  /** A terminal failure's own reason (a conflicting eventId is `conflict`); `non-retriable` when it names none. */
  readonly deadLetterReason?: DeadLetterReason
}

/** Why a record is dead-lettered once `cause` ended its attempts: a defect is never retried, so `non-retriable`. */
export const deadLetterReason = (cause: Cause.Cause<ConsumerFailure>): DeadLetterReason => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return "non-retriable"
  return failure.value.retriable ? "retries-exhausted" : failure.value.deadLetterReason ?? "non-retriable"
}

export interface FailureDescription {
  readonly message: string
  readonly tag: string
}

/** A dead letter's error and its tag: the failure's own, or for a defect (or an interruption) the whole cause. */
export const describeCause = (cause: Cause.Cause<unknown>): FailureDescription => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return describeFailure(failure.value)
  return { message: Cause.pretty(cause), tag: Cause.isInterruptedOnly(cause) ? "Interrupted" : "Defect" }
}

/** What a failure says about itself, whatever its shape. */
const describeFailure = (error: unknown): FailureDescription => {
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : error.constructor.name
    const message = "message" in error && typeof error.message === "string" && error.message !== ""
      ? error.message
      : safeJson(error)
    return { message, tag }
  }
  return { message: String(error), tag: typeof error }
}

const safeJson = (value: object): string => {
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}
