import { Config, type ConfigError, Duration, Effect, Layer, Option, Schedule, type Tracer } from "effect"
import { Kafka, Partitioners } from "kafkajs"
import { EventLog, EventLogError, type OutgoingMessage, producedHeadersFor, producerSpan } from "../services/EventLog.js"
import { Metrics } from "../services/Metrics.js"
import { effectLogCreator, type KafkaLogLevel, kafkaLogLevel } from "./kafka/Logging.js"
import { partitionFor } from "./kafka/Partitioner.js"
import * as SendQueue from "./kafka/SendQueue.js"
import { subscribe } from "./kafka/Subscription.js"

/**
 * The event log on Kafka (kafkajs). One idempotent producer (acks all) and one admin client per
 * layer; one consumer per subscription. Every failure is an `EventLogError` (retriable).
 */

export interface Options {
  /** host:port of each bootstrap broker. */
  readonly brokers: ReadonlyArray<string>
  readonly clientId?: string
  /** Records buffered per subscription ahead of the reader. Default 2048. */
  readonly bufferSize?: number
  /** How long a rebalance waits for the reader to handle a revocation (commit). Default 10 seconds. */
  readonly revokeTimeout?: Duration.DurationInput
  /**
   * How long the group coordinator waits for a member's heartbeat before it declares the member dead
   * and gives its partitions to the others: the failover time after a crash. Default 6 seconds (the
   * broker's `group.min.session.timeout.ms`). Shorter fails over sooner; a member stalled longer (GC,
   * a starved CPU) is evicted and the group rebalances for nothing.
   */
  readonly sessionTimeout?: Duration.DurationInput
  /** How often a member heartbeats; at most a third of the session timeout. Default 1 second. */
  readonly heartbeatInterval?: Duration.DurationInput
  /**
   * How long a rebalance waits for every member to rejoin; a member that has not is dropped. It bounds
   * how long the handover of a revocation (commit) may take, so it must exceed `revokeTimeout`.
   * Default 15 seconds.
   */
  readonly rebalanceTimeout?: Duration.DurationInput
  /**
   * Longest wait between the Kafka client's retries, and before it restarts a consumer that crashed
   * (broker unreachable): bounds how soon consumption resumes once the broker is back. Default 2 seconds.
   */
  readonly maxRetryTime?: Duration.DurationInput
  /** Longest an empty fetch waits on the broker; bounds how long leaving takes. Default 500 ms. */
  readonly maxWaitTime?: Duration.DurationInput
  /** Bytes of messages (keys, values, headers) one send merges from concurrent produces. Default 512 KiB. */
  readonly maxSendBytes?: number
  /** Messages one send merges from concurrent produces. Default 1,000. */
  readonly maxSendMessages?: number
  /** kafkajs log lines below this level are dropped. Default "warn". */
  readonly logLevel?: KafkaLogLevel
}

const millis = (input: Duration.DurationInput | undefined, fallback: number) =>
  input === undefined ? fallback : Duration.toMillis(Duration.decode(input))

const attempt = <A>(operation: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new EventLogError({ operation, cause }) })

/** A connect that an interruption (Ctrl-C, shutdown) abandons at once instead of waiting out kafkajs's retries. */
const connecting = <A, E>(connect: Effect.Effect<A, E>, disconnect: () => Promise<void>) =>
  connect.pipe(
    Effect.interruptible,
    Effect.onInterrupt(() => Effect.sync(() => void disconnect().catch(() => undefined)))
  )

export const make = (options: Options) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const metrics = yield* Effect.serviceOption(Metrics)
    const maxRetryTime = millis(options.maxRetryTime, 2_000)
    const kafka = new Kafka({
      clientId: options.clientId ?? "product-events",
      brokers: [...options.brokers],
      logLevel: kafkaLogLevel(options.logLevel ?? "warn"),
      logCreator: effectLogCreator(runtime),
      retry: { retries: 5, maxRetryTime }
    })
    const admin = kafka.admin()
    yield* Effect.acquireRelease(
      connecting(attempt("connect", () => admin.connect()), () => admin.disconnect()),
      () => Effect.promise(() => admin.disconnect().catch(() => undefined))
    )
    // The default partitioner is Java's murmur2; naming it explicitly also silences kafkajs's v2 notice.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Idempotence needs unbounded retries (kafkajs warns otherwise): a caller that needs a deadline sets its
      // own (the gateway's GATEWAY_PRODUCE_TIMEOUT); giving up takes its produce out of the send queue if it is not sent yet.
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false
    })
    yield* Effect.acquireRelease(
      connecting(attempt("connect", () => producer.connect()), () => producer.disconnect()),
      () => Effect.promise(() => producer.disconnect().catch(() => undefined))
    )

    const settings = {
      bufferSize: options.bufferSize ?? 2048,
      revokeTimeout: Duration.millis(millis(options.revokeTimeout, 10_000)),
      sessionTimeout: millis(options.sessionTimeout, 6_000),
      heartbeatInterval: millis(options.heartbeatInterval, 1_000),
      rebalanceTimeout: millis(options.rebalanceTimeout, 15_000),
      maxRetryTime,
      maxWaitTime: millis(options.maxWaitTime, 500),
      onClientRestart: Option.match(metrics, {
        onNone: () => () => undefined,
        onSome: ({ restarts }) => (group: string) => restarts.inc({ group, by: "client" })
      })
    }

    // Partition counts, to route each message ourselves and so know where it went (kafkajs's
    // DefaultPartitioner computes the same murmur2 partition). Refreshed after a failed send.
    const partitionCounts = new Map<string, number>()
    const partitionCount = (topic: string) =>
      Effect.suspend(() => {
        const known = partitionCounts.get(topic)
        if (known !== undefined) return Effect.succeed(known)
        return attempt("metadata", () => admin.fetchTopicMetadata({ topics: [topic] })).pipe(
          Effect.map(({ topics }) => {
            const count = topics[0]?.partitions.length ?? 0
            if (count > 0) partitionCounts.set(topic, count)
            return count
          }),
          Effect.filterOrFail(
            (count) => count > 0,
            () => new EventLogError({ operation: "produce", cause: `topic ${topic} has no partitions` })
          )
        )
      })

    // One send in flight, the produces of the meantime merged into the next (see SendQueue): concurrent
    // produces would queue behind kafkajs's per-broker lock anyway, each paying a round trip.
    const sends = SendQueue.make(
      (topicMessages) => producer.sendBatch({ acks: -1, topicMessages }),
      { maxBytes: options.maxSendBytes ?? 512 * 1024, maxMessages: options.maxSendMessages ?? 1_000 }
    )

    /**
     * Each partition's messages go in one batch, in input order, so a message's offset is its partition's
     * base offset plus its index among that partition's messages in the send. Messages of different
     * partitions can succeed or fail separately (Kafka has no atomicity across partitions without
     * transactions). The span has no call-site stack trace: capturing one costs a produce about as much as
     * the span itself.
     */
    const produce = (topic: string, messages: ReadonlyArray<OutgoingMessage>) => {
      if (messages.length === 0) return Effect.succeed([])
      const send = (count: number, span: Option.Option<Tracer.Span>) => {
        const headersOf = producedHeadersFor(span)
        const routed: Array<SendQueue.RoutedMessage> = []
        let bytes = 0
        for (const message of messages) {
          const headers = headersOf(message.headers)
          routed.push({
            key: message.key,
            value: Buffer.isBuffer(message.value)
              ? message.value
              : Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength),
            partition: partitionFor(message.key, count),
            headers
          })
          bytes += SendQueue.messageBytes(message.key, message.value, headers)
        }
        return sends.produce(topic, routed, bytes).pipe(Effect.tapError(() => Effect.sync(() => partitionCounts.delete(topic))))
      }
      return Effect.flatMap(partitionCount(topic), (count) => Effect.flatMap(producerSpan, (span) => send(count, span))).pipe(
        Effect.withSpan("EventLog.produce", { attributes: { topic, messages: messages.length }, captureStackTrace: false })
      )
    }

    const committed = (group: string, topic: string) =>
      attempt("committed", () => admin.fetchOffsets({ groupId: group, topics: [topic] })).pipe(
        Effect.map((topics) =>
          (topics.find((t) => t.topic === topic)?.partitions ?? [])
            .map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) }))
            .sort((a, b) => a.partition - b.partition)
        ),
        Effect.withSpan("EventLog.committed", { attributes: { group, topic } })
      )

    const topicOffsets = (operation: "startOffsets" | "endOffsets", topic: string) =>
      attempt(operation, () => admin.fetchTopicOffsets(topic)).pipe(
        Effect.map((partitions) =>
          partitions
            .map((p) => ({ topic, partition: p.partition, offset: Number(operation === "endOffsets" ? p.high : p.low) }))
            .sort((a, b) => a.partition - b.partition)
        ),
        Effect.withSpan(`EventLog.${operation}`, { attributes: { topic } })
      )
    const startOffsets = (topic: string) => topicOffsets("startOffsets", topic)
    const endOffsets = (topic: string) => topicOffsets("endOffsets", topic)

    // Right after a topic is created, the broker may briefly say it does not host a partition it is still
    // electing a leader for (UNKNOWN_TOPIC_OR_PARTITION): creating again (a no-op once it exists) settles it.
    const ensureTopic = (topic: string, partitions: number) =>
      attempt("ensureTopic", () =>
        admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }] })).pipe(
          Effect.retry({
            schedule: Schedule.exponential("100 millis"),
            times: 6,
            while: (error) => error.message.includes("does not host this topic-partition")
          }),
          Effect.asVoid,
          Effect.withSpan("EventLog.ensureTopic", { attributes: { topic, partitions } })
        )

    const ping = attempt("ping", () => admin.describeCluster()).pipe(Effect.asVoid, Effect.withSpan("EventLog.ping"))

    return EventLog.of({
      produce,
      subscribe: (subscribeOptions) =>
        subscribe(kafka, runtime, subscribeOptions, settings).pipe(
          Effect.withSpan("EventLog.subscribe", { attributes: { group: subscribeOptions.group } })
        ),
      committed,
      startOffsets,
      endOffsets,
      ensureTopic,
      ping
    })
  }).pipe(Effect.annotateLogs({ service: "EventLogKafka" }))

/** The event log on Kafka: `EventLogKafka.layer({ brokers: ["127.0.0.1:9092"] })`. */
export const layer = (options: Options): Layer.Layer<EventLog, EventLogError> => Layer.scoped(EventLog, make(options))

const optionalDuration = (name: string) => Config.option(Config.duration(name))

/**
 * `KAFKA_BROKERS` (comma-separated, default 127.0.0.1:9092), `KAFKA_CLIENT_ID` (default product-events),
 * and the group timings `KAFKA_SESSION_TIMEOUT`, `KAFKA_HEARTBEAT_INTERVAL`, `KAFKA_REBALANCE_TIMEOUT`,
 * `KAFKA_MAX_RETRY_TIME` (durations such as "6 seconds"; defaults in `Options`). Consumer restarts of the
 * Kafka client are counted in `Metrics` when the layer is given it.
 */
export const layerConfig: Layer.Layer<EventLog, EventLogError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Config.all({
    brokers: Config.string("KAFKA_BROKERS").pipe(Config.withDefault("127.0.0.1:9092")),
    clientId: Config.string("KAFKA_CLIENT_ID").pipe(Config.withDefault("product-events")),
    sessionTimeout: optionalDuration("KAFKA_SESSION_TIMEOUT"),
    heartbeatInterval: optionalDuration("KAFKA_HEARTBEAT_INTERVAL"),
    rebalanceTimeout: optionalDuration("KAFKA_REBALANCE_TIMEOUT"),
    maxRetryTime: optionalDuration("KAFKA_MAX_RETRY_TIME")
  }).pipe(
    Effect.map(({ brokers, clientId, ...timings }) =>
      layer({
        brokers: brokers.split(",").map((b) => b.trim()).filter((b) => b.length > 0),
        clientId,
        ...Object.fromEntries(Object.entries(timings).flatMap(([name, value]) => Option.isSome(value) ? [[name, value.value]] : []))
      })
    )
  )
)
