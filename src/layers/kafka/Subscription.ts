import { Chunk, Deferred, type Duration, Effect, FiberId, Queue, Runtime, type Scope, Stream } from "effect"
import type { EachBatchPayload, IHeaders, Kafka, KafkaMessage } from "kafkajs"
import {
  type CommitOffset,
  EventLogError,
  type Headers,
  type LogRecord,
  type Rebalance,
  type SubscribeOptions,
  type Subscription,
  type TopicPartition
} from "../../services/EventLog.js"
import { type Batch, BatchBuffer } from "./BatchBuffer.js"

export interface ConsumerSettings {
  /** Records buffered between kafkajs and the reader (in whole batches); a full buffer holds kafkajs's fetching back. */
  readonly bufferSize: number
  /** How long a revocation waits for the reader to handle it (commit) before kafkajs rejoins. */
  readonly revokeTimeout: Duration.Duration
  readonly sessionTimeout: number
  readonly heartbeatInterval: number
  readonly rebalanceTimeout: number
  /** Caps kafkajs's retry back-off and its delay before restarting a crashed consumer. */
  readonly maxRetryTime: number
  /** Called for each crash kafkajs recovers from by restarting the consumer (the group is the argument). */
  readonly onClientRestart: (group: string) => void
  /** Longest a fetch waits on the broker for new data: bounds shutdown latency. */
  readonly maxWaitTime: number
}

interface PendingRebalance {
  readonly rebalance: Rebalance
  readonly handled: Deferred.Deferred<void>
}

/** kafkajs's own test (`isRebalancing` is not exported). */
const isRebalancing = (e: unknown) => {
  const type = (e as { type?: unknown } | null)?.type
  return type === "REBALANCE_IN_PROGRESS" || type === "NOT_COORDINATOR_FOR_GROUP" || type === "ILLEGAL_GENERATION"
}

/** The coordinator dropped this member (session expired): kafkajs rejoins as a new member. */
const isUnknownMember = (e: unknown) => (e as { type?: unknown } | null)?.type === "UNKNOWN_MEMBER_ID"

/** Longest header value whose text is reused when its bytes repeat (`eventType`, not a `traceparent`). */
const reusedUpTo = 32

/**
 * Records from kafkajs messages. A header's text is the previous record's string when its bytes are
 * the same (most records of a batch carry the same `eventType`): a byte comparison instead of a
 * decode, and the engine's per-record comparisons with it then match on identity.
 */
export class RecordReader {
  /** Per header name (the first few names seen), its last short value: bytes and text. */
  private readonly last = new Map<string, { bytes: Uint8Array; text: string }>()

  private text(name: string, value: Buffer): string {
    if (value.length > reusedUpTo) return value.toString("utf8")
    const last = this.last.get(name)
    if (last !== undefined && sameBytes(last.bytes, value)) return last.text
    const text = value.toString("utf8")
    if (last !== undefined || this.last.size < 8) this.last.set(name, { bytes: Uint8Array.from(value), text })
    return text
  }

  private headers(headers: IHeaders | undefined): Headers {
    const result: Record<string, string> = {}
    if (headers === undefined) return result
    for (const name in headers) {
      const value = headers[name]
      const first = Array.isArray(value) ? value[0] : value
      if (first === undefined) continue
      result[name] = typeof first === "string" ? first : this.text(name, first)
    }
    return result
  }

  record(topic: string, partition: number, message: KafkaMessage): LogRecord {
    return {
      topic,
      partition,
      offset: Number(message.offset),
      key: message.key === null || message.key === undefined ? null : message.key.toString("utf8"),
      value: message.value ?? new Uint8Array(),
      headers: this.headers(message.headers),
      timestamp: Number(message.timestamp)
    }
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const sleep = (ms: number) => new Promise<"tick">((resolve) => setTimeout(() => resolve("tick"), ms).unref())

/**
 * One kafkajs consumer per subscription. kafkajs pushes batches; they go, whole, into a buffer
 * bounded by records that the reader pulls from one batch (one chunk) at a time, so a slow reader
 * blocks `eachBatch`, and a blocked `eachBatch` stops kafkajs fetching (it is pause without the
 * bookkeeping). While blocked it heartbeats.
 *
 * kafkajs rebalances eagerly (every partition is given up, then the new assignment is received)
 * and has no revoke callback. Emulated: when a heartbeat inside `eachBatch` reports a rebalance,
 * `Revoked` (every assigned partition) is emitted and the batch waits, at most `revokeTimeout`,
 * until the reader pulls the next rebalance (it has handled the revocation: committed) before
 * kafkajs rejoins. A rebalance kafkajs notices elsewhere (its own fetch loop) only emits
 * `REBALANCING`: `Revoked` is then emitted without waiting, and the reader's commit races the rejoin
 * (a lost race means redelivery, never loss). Each join starts a new generation: queued records
 * of an earlier one are dropped, as kafkajs restarts every assigned partition at its committed offset.
 */
export const subscribe = (
  kafka: Kafka,
  runtime: Runtime.Runtime<never>,
  options: SubscribeOptions,
  settings: ConsumerSettings
): Effect.Effect<Subscription, EventLogError, Scope.Scope> =>
  Effect.gen(function*() {
    const buffer = new BatchBuffer(settings.bufferSize)
    const reader = new RecordReader()
    const rebalanceQueue = yield* Queue.unbounded<PendingRebalance>()
    const crashed = yield* Deferred.make<never, EventLogError>()
    const state = {
      generation: 0,
      assigned: [] as ReadonlyArray<TopicPartition>,
      revoking: undefined as Promise<void> | undefined,
      closing: false
    }

    const emit = (rebalance: Rebalance) => {
      const handled = Deferred.unsafeMake<void>(FiberId.none)
      Queue.unsafeOffer(rebalanceQueue, { rebalance, handled })
      return handled
    }

    /** Starts a revocation once per rebalance; the promise settles when the reader handled it or time ran out. */
    const revokeAll = (): Promise<void> => {
      if (state.revoking !== undefined) return state.revoking
      state.generation++
      const partitions = state.assigned
      state.assigned = []
      state.revoking = partitions.length === 0 ? Promise.resolve() : Runtime.runPromise(
        runtime,
        Deferred.await(emit({ _tag: "Revoked", partitions })).pipe(
          Effect.timeoutOption(settings.revokeTimeout),
          Effect.asVoid
        )
      )
      return state.revoking
    }

    const onJoin = (assignment: Record<string, ReadonlyArray<number>>) => {
      if (state.assigned.length > 0) void revokeAll()
      const partitions = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })))
      state.generation++
      state.assigned = partitions
      state.revoking = undefined
      emit({ _tag: "Assigned", partitions })
    }

    /** Waits for the offer, heartbeating; on a rebalance, revokes and rethrows kafkajs's error so it rejoins. */
    const offerBatch = async (payload: EachBatchPayload, batch: Batch) => {
      const abort = new AbortController()
      const offered = buffer.offer(batch, abort.signal).then((queued) => queued ? "offered" as const : "stopped" as const)
      const tickMs = Math.max(100, Math.floor(settings.heartbeatInterval / 3))
      while (true) {
        const outcome = await Promise.race([offered, sleep(tickMs)])
        if (outcome === "stopped") return false
        try {
          await payload.heartbeat()
        } catch (error) {
          // Other failures (a broker hiccup) leave the membership as it is: the next tick tries again.
          if (isRebalancing(error) || isUnknownMember(error)) {
            abort.abort()
            await revokeAll()
            throw error
          }
        }
        if (outcome === "offered") return true
        if (state.closing || !payload.isRunning()) {
          abort.abort()
          return false
        }
      }
    }

    const consumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: settings.sessionTimeout,
      heartbeatInterval: settings.heartbeatInterval,
      rebalanceTimeout: settings.rebalanceTimeout,
      // Retries forever (restarting after a crash), never more than `maxRetryTime` apart.
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: settings.maxRetryTime },
      maxWaitTimeInMs: settings.maxWaitTime,
      allowAutoTopicCreation: false
    })
    const { CRASH, GROUP_JOIN, REBALANCING } = consumer.events
    const listeners = [
      consumer.on(GROUP_JOIN, (event) => onJoin(event.payload.memberAssignment)),
      consumer.on(REBALANCING, () => void revokeAll()),
      consumer.on(CRASH, (event) => {
        if (event.payload.restart && !state.closing) settings.onClientRestart(options.group)
        if (!event.payload.restart && !state.closing) {
          Deferred.unsafeDone(crashed, Effect.fail(new EventLogError({ operation: "consume", cause: event.payload.error })))
        }
      })
    ]

    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          await consumer.connect()
          await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true })
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            eachBatch: async (payload) => {
              const { batch } = payload
              const generation = state.generation
              if (state.closing || state.revoking !== undefined || batch.isEmpty()) return
              const { messages, partition, topic } = batch
              const records = new Array<LogRecord>(messages.length)
              for (let i = 0; i < messages.length; i++) records[i] = reader.record(topic, partition, messages[i]!)
              // Moves kafkajs's fetch position only; commits come from `commit`.
              if (await offerBatch(payload, { generation, records: Chunk.unsafeFromArray(records) })) {
                payload.resolveOffset(batch.lastOffset())
              }
            }
          })
        },
        catch: (cause) => new EventLogError({ operation: "subscribe", cause })
      }).pipe(Effect.onError(() => Effect.promise(() => consumer.disconnect().catch(() => undefined)))),
      () =>
        Effect.gen(function*() {
          state.closing = true
          buffer.close()
          yield* Queue.shutdown(rebalanceQueue)
          yield* Effect.promise(() =>
            consumer.disconnect().catch((cause) => Runtime.runFork(runtime, Effect.logDebug("disconnect", cause)))
          )
          for (const remove of listeners) remove()
        })
    )

    const commit = (offsets: ReadonlyArray<CommitOffset>) =>
      offsets.length === 0 ? Effect.void : Effect.tryPromise({
        try: () =>
          consumer.commitOffsets(offsets.map(({ offset, partition, topic }) => ({ topic, partition, offset: String(offset) }))),
        catch: (cause) => new EventLogError({ operation: "commit", cause })
      }).pipe(Effect.withSpan("EventLog.commit", { attributes: { group: options.group } }))

    return { records: recordStream(buffer, state, crashed), rebalances: rebalanceStream(rebalanceQueue), commit }
  })

/** Batches of the current generation only, one chunk each; fails when kafkajs gives up (a crash it does not restart from). */
const recordStream = (
  buffer: BatchBuffer,
  state: { readonly generation: number },
  crashed: Deferred.Deferred<never, EventLogError>
): Stream.Stream<LogRecord, EventLogError> =>
  Stream.repeatEffectChunk(
    Effect.map(buffer.take, (batch) => batch.generation === state.generation ? batch.records : Chunk.empty())
  ).pipe(Stream.interruptWhen(Deferred.await(crashed)))

/**
 * Rebalances, one per pull: pulling the next one tells the revocation waiting on the previous that
 * the reader has handled it (the consumer engine handles each, commit included, before pulling again).
 */
const rebalanceStream = (rebalanceQueue: Queue.Dequeue<PendingRebalance>): Stream.Stream<Rebalance> =>
  Stream.suspend(() => {
    let previous: Deferred.Deferred<void> | undefined
    const release = Effect.suspend(() => (previous === undefined ? Effect.void : Deferred.succeed(previous, undefined)))
    return Stream.repeatEffect(
      release.pipe(
        Effect.zipRight(Queue.take(rebalanceQueue)),
        Effect.map((next) => {
          previous = next.handled
          return next.rebalance
        })
      )
    ).pipe(Stream.ensuring(release))
  })
