/**
 * Consumer throughput on the real broker (`npm run infra:up` first): 200,000 small valid events keyed by
 * 5,000 sellers on a fresh 12-partition topic, consumed (a) by the consumer engine (decode, lanes,
 * watermark commits, a no-op handler) and (b) by a bare kafkajs `eachBatch` loop that only parses
 * JSON. Same topic, separate groups, same run. The engine always consumes `product-events`: here that
 * name is mapped to the bench's topic by a thin EventLog wrapper, so the shared topic is left alone.
 *
 *   npm run bench:consumer            BENCH_EVENTS=50000 npm run bench:consumer
 */
import { randomUUID } from "node:crypto"
import { NodeRuntime } from "@effect/platform-node"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { type ConsumerGroup, deadLetterTopic, notificationService, productEventsTopic } from "../src/domain/Consumers.js"
import * as EventLogKafka from "../src/layers/EventLogKafka.js"
import * as ConsumerEngine from "../src/services/ConsumerEngine.js"
import { EventLog } from "../src/services/EventLog.js"
import { Metrics } from "../src/services/Metrics.js"
import { benchMessage } from "./events.js"

const total = Number(process.env["BENCH_EVENTS"] ?? 200_000)
const sellers = 5_000
const partitions = 12
const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")
const run = randomUUID().slice(0, 8)
const topic = `bench_consumer_${run}`
const engineGroup = `bench_engine_${run}` as ConsumerGroup
const bareGroup = `bench_bare_${run}`

const message = (i: number) => benchMessage(i, sellers)

/** `product-events` read as the bench topic. */
const BenchTopic = Layer.effect(
  EventLog,
  Effect.map(EventLog, (log) => {
    const rename = (name: string) => (name === productEventsTopic ? topic : name)
    return EventLog.of({
      ...log,
      subscribe: (options) => log.subscribe({ ...options, topics: options.topics.map(rename) }),
      committed: (group, name) => log.committed(group, rename(name)),
      endOffsets: (name) => log.endOffsets(rename(name))
    })
  })
)

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)

const produceAll = Effect.gen(function*() {
  const log = yield* EventLog
  yield* log.ensureTopic(topic, partitions)
  yield* log.ensureTopic(deadLetterTopic(engineGroup), 1)
  const started = Date.now()
  const batch = 5_000
  for (let from = 0; from < total; from += batch) {
    yield* log.produce(topic, Array.from({ length: Math.min(batch, total - from) }, (_, k) => message(from + k)))
  }
  const produced = (yield* log.endOffsets(topic)).reduce((n, e) => n + e.offset, 0)
  yield* Effect.log(`produced ${produced} events to ${topic} in ${Date.now() - started} ms`)
})

const engine = Effect.gen(function*() {
  let handled = 0
  const done = yield* Deferred.make<number>()
  const started = Date.now()
  const fiber = yield* ConsumerEngine.run({
    contract: { ...notificationService, group: engineGroup },
    // A synchronous no-op, as the bare loop's: it returns a completed effect, which the engine runs in plain
    // code (handleEach) without a fiber step per record.
    handle: () => {
      if (++handled === total) Deferred.unsafeDone(done, Effect.succeed(Date.now()))
      return Effect.void
    }
  }).pipe(Effect.provide(BenchTopic), Effect.fork)
  const finished = yield* Deferred.await(done).pipe(Effect.timeout("10 minutes"))
  yield* Fiber.interrupt(fiber)
  return { consumed: handled, ms: finished - started }
})

const bare = Effect.promise(async () => {
  const kafka = new Kafka({ clientId: "bench-bare", brokers, logLevel: logLevel.WARN })
  const consumer = kafka.consumer({ groupId: bareGroup, maxWaitTimeInMs: 500 })
  let consumed = 0
  let finished = 0
  const started = Date.now()
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          JSON.parse(m.value!.toString("utf8"))
          consumed++
        }
        if (consumed >= total && finished === 0) {
          finished = Date.now()
          resolve()
        }
      }
    })
  })
  await done
  await consumer.disconnect()
  return { consumed, ms: finished - started }
})

const cleanUp = Effect.promise(async () => {
  const admin = new Kafka({ clientId: "bench-admin", brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.deleteTopics({ topics: [topic, deadLetterTopic(engineGroup)] }).catch(() => undefined)
  await admin.deleteGroups([engineGroup, bareGroup]).catch(() => undefined)
  await admin.disconnect()
})

const main = Effect.gen(function*() {
  yield* produceAll
  const a = yield* engine
  yield* Effect.log(`engine done`)
  // BENCH_ONLY=engine: the engine alone (for a profile).
  const b = process.env["BENCH_ONLY"] === "engine" ? { consumed: total, ms: 1 } : yield* bare
  const lines = [
    `events: ${total} (${sellers} sellers, ${partitions} partitions, topic ${topic})`,
    `(a) consumer engine: ${a.consumed} consumed in ${a.ms} ms = ${rate(a.consumed, a.ms)} events/s`,
    `(b) bare eachBatch : ${b.consumed} consumed in ${b.ms} ms = ${rate(b.consumed, b.ms)} events/s`,
    `ratio engine/bare: ${(rate(a.consumed, a.ms) / rate(b.consumed, b.ms)).toFixed(2)}`
  ]
  console.log(lines.join("\n"))
  if (a.consumed !== total || b.consumed !== total) {
    return yield* Effect.dieMessage(`consumed counts differ from ${total}: engine ${a.consumed}, bare ${b.consumed}`)
  }
}).pipe(
  Effect.ensuring(cleanUp),
  Effect.provide(Layer.merge(EventLogKafka.layer({ brokers, clientId: "bench" }), Metrics.Default))
)

NodeRuntime.runMain(main)
