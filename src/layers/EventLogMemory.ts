import { Chunk, Clock, Deferred, Effect, FiberId, Layer, Stream } from "effect"
import {
  type CommitOffset,
  EventLog,
  EventLogError,
  type Headers,
  type LogRecord,
  type OutgoingMessage,
  producedHeadersFor,
  producerSpan,
  type Rebalance,
  type SubscribeOptions,
  type TopicPartition
} from "../services/EventLog.js"
import { partitionFor } from "./kafka/Partitioner.js"

/**
 * Kafka's model in one process: topics of partitions, each an append-only array; producers
 * partition by key exactly as Kafka's default partitioner does; consumer groups keep committed offsets.
 * As a broker without auto-creation, it refuses to produce to, subscribe to or read the end offsets
 * of a topic that was not created (`ensureTopic`, or `topics` at construction).
 *
 * A group has at most one member at a time here: it is assigned every partition of its topics
 * (one `Assigned` rebalance, never revoked). Subscribing a group that already has an active
 * member fails with an `EventLogError` (operation "subscribe") instead of rebalancing.
 */

export interface MemoryOptions {
  /** Topics that exist from the start, with their partition counts (a provisioned broker). */
  readonly topics?: Readonly<Record<string, number>>
}

interface PartitionLog {
  readonly records: Array<LogRecord>
  /** Completed (and replaced) on every append: readers at the end wait on it. */
  appended: Deferred.Deferred<void>
}

interface GroupState {
  /** "topic/partition" → next offset to read. */
  readonly committed: Map<string, number>
  active: boolean
}

const tpKey = (topic: string, partition: number) => `${topic}/${partition}`

const sameHeaders = (a: Headers | undefined, b: Headers | undefined): boolean => {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  let count = 0
  for (const name in a) {
    if (a[name] !== b[name]) return false
    count++
  }
  for (const _ in b) count--
  return count === 0
}
const readChunk = 1024

export const make = (options: MemoryOptions = {}) =>
  Effect.sync(() => {
    const topics = new Map<string, ReadonlyArray<PartitionLog>>()
    const groups = new Map<string, GroupState>()

    const createTopic = (topic: string, partitions: number): ReadonlyArray<PartitionLog> => {
      const existing = topics.get(topic)
      if (existing !== undefined) return existing
      const logs = Array.from({ length: partitions }, (): PartitionLog => ({
        records: [],
        appended: Deferred.unsafeMake(FiberId.none)
      }))
      topics.set(topic, logs)
      return logs
    }

    for (const [topic, partitions] of Object.entries(options.topics ?? {})) createTopic(topic, partitions)

    /** The topic's partitions, or Kafka's refusal of an unknown topic. */
    const existing = (operation: string, topic: string) =>
      Effect.suspend(() => {
        const logs = topics.get(topic)
        return logs !== undefined
          ? Effect.succeed(logs)
          : Effect.fail(new EventLogError({ operation, cause: `unknown topic ${topic}: this server does not host it` }))
      })

    const groupState = (group: string): GroupState => {
      let state = groups.get(group)
      if (state === undefined) {
        state = { committed: new Map(), active: false }
        groups.set(group, state)
      }
      return state
    }

    const produce = (topic: string, messages: ReadonlyArray<OutgoingMessage>) =>
      Effect.all([existing("produce", topic), Clock.currentTimeMillis, producerSpan]).pipe(
        Effect.map(([logs, timestamp, span]) => {
          const touched = new Set<PartitionLog>()
          // Consecutive messages with the same headers (an array of events of one type) share one
          // headers object: less memory per record, and a reader of many records' headers (the
          // consumer engine reads each record's `eventType`) finds it in cache.
          const produce = producedHeadersFor(span)
          let previous: { readonly given: Headers | undefined; readonly produced: Headers } | undefined
          const headersOf = (given: Headers | undefined): Headers => {
            if (previous === undefined || !sameHeaders(previous.given, given)) {
              previous = { given, produced: produce(given) }
            }
            return previous.produced
          }
          const positions = messages.map((message) => {
            const partition = partitionFor(message.key, logs.length)
            const log = logs[partition]!
            const offset = log.records.length
            log.records.push({
              topic,
              partition,
              offset,
              key: message.key,
              value: message.value.slice(),
              headers: headersOf(message.headers),
              timestamp
            })
            touched.add(log)
            return { partition, offset }
          })
          for (const log of touched) {
            const waiting = log.appended
            log.appended = Deferred.unsafeMake(FiberId.none)
            Deferred.unsafeDone(waiting, Effect.void)
          }
          return positions
        }),
        Effect.withSpan("EventLog.produce", { attributes: { topic, messages: messages.length } })
      )

    /** One partition's records from `from` on, then live ones; pulled on demand. */
    const readPartition = (log: PartitionLog, from: number): Stream.Stream<LogRecord> =>
      Stream.suspend(() => {
        let position = from
        const next: Effect.Effect<Chunk.Chunk<LogRecord>> = Effect.suspend(() => {
          if (position < log.records.length) {
            const chunk = log.records.slice(position, position + readChunk)
            position += chunk.length
            return Effect.succeed(Chunk.unsafeFromArray(chunk))
          }
          return Deferred.await(log.appended).pipe(Effect.zipRight(next))
        })
        return Stream.repeatEffectChunk(next)
      })

    const subscribe = (options: SubscribeOptions) =>
      Effect.gen(function*() {
        const state = groupState(options.group)
        const topicLogs = yield* Effect.forEach(options.topics, (topic) => existing("subscribe", topic))
        yield* Effect.acquireRelease(
          Effect.suspend(() => {
            if (state.active) {
              return Effect.fail(
                new EventLogError({
                  operation: "subscribe",
                  cause: `group ${options.group} already has an active member (the in-memory log has one member per group)`
                })
              )
            }
            state.active = true
            return Effect.void
          }),
          () => Effect.sync(() => (state.active = false))
        )
        const assigned: Array<TopicPartition> = []
        const streams: Array<Stream.Stream<LogRecord>> = []
        for (const [index, topic] of options.topics.entries()) {
          topicLogs[index]!.forEach((log, partition) => {
            assigned.push({ topic, partition })
            const committed = state.committed.get(tpKey(topic, partition))
            const from = committed ?? (options.fromBeginning === false ? log.records.length : 0)
            streams.push(readPartition(log, from))
          })
        }
        const rebalance: Rebalance = { _tag: "Assigned", partitions: assigned }
        const commit = (offsets: ReadonlyArray<CommitOffset>) =>
          Effect.sync(() => {
            for (const { offset, partition, topic } of offsets) state.committed.set(tpKey(topic, partition), offset)
          }).pipe(Effect.withSpan("EventLog.commit", { attributes: { group: options.group } }))
        return {
          records: Stream.mergeAll(streams, { concurrency: "unbounded" }),
          rebalances: Stream.make(rebalance),
          commit
        }
      }).pipe(Effect.withSpan("EventLog.subscribe", { attributes: { group: options.group } }))

    /** Offsets per partition; -1 where the group has committed nothing, as Kafka reports it. */
    const committed = (group: string, topic: string) =>
      Effect.sync(() =>
        (topics.get(topic) ?? []).map((_, partition): CommitOffset => ({
          topic,
          partition,
          offset: groups.get(group)?.committed.get(tpKey(topic, partition)) ?? -1
        }))
      ).pipe(Effect.withSpan("EventLog.committed"))

    const endOffsets = (topic: string) =>
      existing("endOffsets", topic).pipe(
        Effect.map((logs) => logs.map((log, partition): CommitOffset => ({ topic, partition, offset: log.records.length }))),
        Effect.withSpan("EventLog.endOffsets")
      )

    /** Nothing is ever deleted here: every partition starts at 0. */
    const startOffsets = (topic: string) =>
      existing("startOffsets", topic).pipe(
        Effect.map((logs) => logs.map((_, partition): CommitOffset => ({ topic, partition, offset: 0 }))),
        Effect.withSpan("EventLog.startOffsets")
      )

    const ensureTopic = (topic: string, partitions: number) =>
      Effect.sync(() => void createTopic(topic, partitions)).pipe(Effect.withSpan("EventLog.ensureTopic"))

    return EventLog.of({ produce, subscribe, committed, startOffsets, endOffsets, ensureTopic, ping: Effect.void })
  })

/** The in-memory event log: `EventLogMemory.layerMemory()`, or with topics: `layerMemory({ topics: { "t": 12 } })`. */
export const layerMemory = (options: MemoryOptions = {}): Layer.Layer<EventLog> => Layer.effect(EventLog, make(options))
