import { Schema } from "effect"

/**
 * Kafka headers a consumer adds when it moves a record to `product-events.dlq.<group>`.
 * The record keeps its original key, value bytes and headers (such as `eventType`).
 */
export const deadLetterHeaders = {
  error: "dlq-error",
  errorTag: "dlq-error-tag",
  reason: "dlq-reason",
  sourceTopic: "dlq-source-topic",
  sourcePartition: "dlq-source-partition",
  sourceOffset: "dlq-source-offset",
  attempts: "dlq-attempts",
  consumerGroup: "dlq-consumer-group",
  failedAt: "dlq-failed-at"
} as const
export type DeadLetterHeader = (typeof deadLetterHeaders)[keyof typeof deadLetterHeaders]

/** Why a record was dead-lettered. */
export const DeadLetterReason = Schema.Literal("decode-failed", "retries-exhausted", "non-retriable", "conflict")
export type DeadLetterReason = typeof DeadLetterReason.Type

/** What each header holds: the contract documents and the AsyncAPI document are generated from this. */
export const deadLetterHeaderDescriptions: { readonly [K in DeadLetterHeader]: string } = {
  "dlq-error": "Human-readable error: the decode error paths and messages, or the last retriable failure.",
  "dlq-error-tag": "The error's type, e.g. `DecodeError` or the failing store's error tag.",
  "dlq-reason":
    "`decode-failed` (dead-lettered at once, never retried), `non-retriable` (a terminal failure, not retried), `retries-exhausted`, " +
    "or `conflict` (its eventId was consumed before with other content: the first version stands, this one is not applied).",
  "dlq-source-topic": "Topic the record was consumed from (`product-events`).",
  "dlq-source-partition": "Partition of the original record, decimal.",
  "dlq-source-offset": "Offset of the original record in that partition, decimal.",
  "dlq-attempts": "Number of processing attempts made, decimal (1 for a decode failure).",
  "dlq-consumer-group": "The consumer group that gave up on the record.",
  "dlq-failed-at": "When the record was dead-lettered: ISO-8601 UTC with milliseconds."
}
