import { Chunk, Effect, Stream } from "effect"
import { type ConsumerGroup, deadLetterTopic, productEventsTopic } from "../domain/Consumers.js"
import { deadLetterHeaders } from "../domain/DeadLetter.js"
import { acknowledgedInTime } from "./DeadLetters.js"
import { EventLog, type Headers, type LogRecord } from "./EventLog.js"

export interface ReplayOptions {
  readonly group: ConsumerGroup
  /** Print what would be replayed; publish and commit nothing. */
  readonly dryRun: boolean
  /** At most this many dead letters. */
  readonly limit?: number
}

export interface Replayed {
  readonly record: LogRecord
  readonly reason: string
}

const dlqHeaderNames: ReadonlySet<string> = new Set(Object.values(deadLetterHeaders))

/** The original headers of a dead letter: the `dlq-*` ones removed. */
export const originalHeaders = (headers: Headers): Headers =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !dlqHeaderNames.has(name)))

/** The replay tool's own consumer group on a dead-letter topic: it remembers what was replayed. */
export const replayGroup = (group: ConsumerGroup): string => `product-events-dlq-replay.${group}`

/**
 * Republishes the dead letters of a consumer group that were not replayed before (up to the end of the
 * topic as it stands when the replay starts) onto `product-events`, with their original key, bytes
 * and headers, then commits them. Consumers apply them idempotently by eventId; a record that still
 * fails to decode is dead-lettered again.
 */
export const replayDeadLetters = (options: ReplayOptions) =>
  Effect.gen(function*() {
    const log = yield* EventLog
    const topic = deadLetterTopic(options.group)
    const group = replayGroup(options.group)
    yield* log.ensureTopic(topic, 1)
    const [starts, ends, committed] = yield* Effect.all([log.startOffsets(topic), log.endOffsets(topic), log.committed(group, topic)])
    // Dead letters below the start offset were deleted (retention): they cannot be replayed, nor waited for.
    const startOf = (partition: number) =>
      Math.max(
        0,
        starts.find((s) => s.partition === partition)?.offset ?? 0,
        committed.find((c) => c.partition === partition)?.offset ?? 0
      )
    const pending = ends.reduce((n, end) => n + Math.max(0, end.offset - startOf(end.partition)), 0)
    const count = Math.min(pending, options.limit ?? pending)
    if (count === 0) return [] as ReadonlyArray<Replayed>

    const subscription = yield* log.subscribe({ group, topics: [topic], fromBeginning: true })
    const endOf = new Map(ends.map((e) => [e.partition, e.offset]))
    const records = Chunk.toReadonlyArray(
      yield* subscription.records.pipe(
        Stream.filter((r) => r.offset < (endOf.get(r.partition) ?? 0)),
        Stream.take(count),
        Stream.runCollect
      )
    )
    const replayed = records.map((record) => ({ record, reason: record.headers[deadLetterHeaders.reason] ?? "unknown" }))
    if (options.dryRun) return replayed

    // Not committed unless acknowledged in time: a replay that fails leaves the letters to replay again.
    yield* log.produce(
      productEventsTopic,
      records.map((r) => ({ key: r.key ?? "", value: r.value, headers: originalHeaders(r.headers) }))
    ).pipe(acknowledgedInTime)
    const next = new Map<number, number>()
    for (const r of records) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1))
    yield* subscription.commit([...next].map(([partition, offset]) => ({ topic, partition, offset })))
    return replayed
  }).pipe(Effect.scoped, Effect.withSpan("DeadLetterReplay.replay", { attributes: { group: options.group } }))
