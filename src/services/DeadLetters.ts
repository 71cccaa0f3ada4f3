import { Data } from "effect"
import { deadLetterHeaders, type DeadLetterReason } from "../domain/DeadLetter.js"
import type { Headers, LogRecord, OutgoingMessage } from "./EventLog.js"

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

/** What a handler's failure says about itself, whatever its shape. */
export const describeFailure = (error: unknown): { readonly message: string; readonly tag: string } => {
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
