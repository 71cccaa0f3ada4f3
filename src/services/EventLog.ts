import { Context, Duration, Effect, Option, type Scope, type Stream, type Tracer } from "effect"
import { formatTraceparent, traceparentHeader } from "../domain/TraceContext.js"
import { InfraError } from "./InfraError.js"

/**
 * A partitioned, replicated log with consumer groups: Kafka's model, reduced to what the
 * services use. Implemented in memory (`layers/EventLogMemory.ts`) and on Kafka (`layers/EventLogKafka.ts`).
 */

export type Headers = Readonly<Record<string, string>>

/**
 * The span a produce runs in, if any, for `producedHeadersFor`: a layer reads it once per produce.
 */
export const producerSpan: Effect.Effect<Option.Option<Tracer.Span>> = Effect.option(Effect.currentSpan)

/**
 * A message's headers as a layer writes them: with the producer's span as `traceparent`, so the
 * consumers' spans join the producer's trace, unless it carries one already (a replayed dead letter
 * keeps the trace of its first production). The span's `traceparent` is formatted once, for all the
 * messages of one produce.
 */
export const producedHeadersFor = (span: Option.Option<Tracer.Span>): (headers: Headers | undefined) => Headers => {
  if (Option.isNone(span)) return (headers) => ({ ...headers })
  const traceparent = formatTraceparent(span.value)
  return (headers) => headers?.[traceparentHeader] !== undefined ? { ...headers } : { ...headers, [traceparentHeader]: traceparent }
}

export interface OutgoingMessage {
  /** Partitioning key: every message of one key lands on one partition, in order. */
  readonly key: string
  readonly value: Uint8Array
  readonly headers?: Headers
}

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export interface LogRecord extends TopicPartition {
  readonly offset: number
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers: Headers
  /** Append time, epoch millis. */
  readonly timestamp: number
}

export interface CommitOffset extends TopicPartition {
  /** The next offset to read, as Kafka commits it (last finished offset + 1). */
  readonly offset: number
}

/** Partitions taken from or given to this member of the group. */
export type Rebalance =
  | { readonly _tag: "Assigned"; readonly partitions: ReadonlyArray<TopicPartition> }
  | { readonly _tag: "Revoked"; readonly partitions: ReadonlyArray<TopicPartition> }

export interface Subscription {
  /** Records of the assigned partitions; each partition's records in offset order. Back-pressured. */
  readonly records: Stream.Stream<LogRecord, EventLogError>
  /** Assignment changes. Before a revocation completes, the member commits what it has finished. */
  readonly rebalances: Stream.Stream<Rebalance>
  readonly commit: (offsets: ReadonlyArray<CommitOffset>) => Effect.Effect<void, EventLogError>
}

export interface SubscribeOptions {
  readonly group: string
  readonly topics: ReadonlyArray<string>
  /** Where a group with no committed offset starts. Default: earliest. */
  readonly fromBeginning?: boolean
}

export class EventLogError extends InfraError("EventLogError", "event log") {}

/**
 * A produce failed with an `EventLogError` unless acknowledged within `deadline`: the event log sets no
 * deadline of its own, and its caller's interruption withdraws a produce not sent yet.
 */
export const acknowledgedWithin = (deadline: Duration.Duration) =>
<A, R>(produce: Effect.Effect<A, EventLogError, R>): Effect.Effect<A, EventLogError, R> =>
  Effect.timeoutFail(produce, {
    duration: deadline,
    onTimeout: () => new EventLogError({ operation: "produce", cause: `not acknowledged within ${Duration.format(deadline)}` })
  })

export class EventLog extends Context.Tag("product-events/EventLog")<
  EventLog,
  {
    /**
     * Appends all messages or none (as far as the backend allows); returns their positions in order. No
     * deadline of its own (Kafka: retried until the broker answers); a caller that needs one interrupts it,
     * as the gateway does (`GATEWAY_PRODUCE_TIMEOUT`), and a produce not sent yet is then withdrawn.
     */
    readonly produce: (
      topic: string,
      messages: ReadonlyArray<OutgoingMessage>
    ) => Effect.Effect<ReadonlyArray<{ readonly partition: number; readonly offset: number }>, EventLogError>
    /** Joins a consumer group for the lifetime of the scope; leaving the scope leaves the group. */
    readonly subscribe: (options: SubscribeOptions) => Effect.Effect<Subscription, EventLogError, Scope.Scope>
    /** The group's committed offsets (next offset to read) for each partition of the topic. */
    readonly committed: (group: string, topic: string) => Effect.Effect<ReadonlyArray<CommitOffset>, EventLogError>
    /**
     * The start offset of each partition of the topic: its first record still held. Retention (or a
     * deletion) removes records from the front, so offsets below it will never be read again.
     */
    readonly startOffsets: (topic: string) => Effect.Effect<ReadonlyArray<CommitOffset>, EventLogError>
    /** The end offset (next offset to be written) of each partition of the topic. */
    readonly endOffsets: (topic: string) => Effect.Effect<ReadonlyArray<CommitOffset>, EventLogError>
    /** Creates the topic with this many partitions when it does not exist. Idempotent. */
    readonly ensureTopic: (topic: string, partitions: number) => Effect.Effect<void, EventLogError>
    /** Reachable and serving: for readiness probes. */
    readonly ping: Effect.Effect<void, EventLogError>
  }
>() {}
