import { Data } from "effect"

/** The `name` of a client library's error (e.g. `ConditionalCheckFailedException`, `NoSuchKey`), if it has one. */
export const errorName = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "name" in cause && typeof cause.name === "string" ? cause.name : undefined

/** What a client library's error says, in one line: Node's connection failures are AggregateErrors with an empty message. */
export const causeMessage = (cause: unknown): string => {
  if (cause instanceof AggregateError && cause.errors.length > 0) return cause.errors.map(causeMessage).join("; ")
  if (cause instanceof Error) return cause.message === "" ? cause.name : cause.message
  return String(cause)
}

/**
 * The error class of one infrastructure service: the operation that failed and the client's error
 * as its cause. Its message names both (`event log subscribe failed: connect ECONNREFUSED …`).
 * Infrastructure faults are worth another try: retriable.
 */
export const InfraError = <const Tag extends string>(tag: Tag, service: string) =>
  class extends Data.TaggedError(tag)<{ readonly operation: string; readonly cause: unknown }> {
    readonly retriable = true
    override get message() {
      return `${service} ${this.operation} failed: ${causeMessage(this.cause)}`
    }
  }
