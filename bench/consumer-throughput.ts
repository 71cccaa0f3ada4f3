/**
 * Consumer throughput on the real broker (`npm run infra:up` first): 200,000 small valid events keyed by
 * 5,000 sellers on a fresh 12-partition topic, consumed (a) by the consumer engine (decode, lanes,
 * watermark commits, a no-op handler) and (b) by a bare kafkajs `eachBatch` loop that only parses
 * JSON. Same topic, separate groups, same run. The engine always consumes `product-events`: here that
 * name is mapped to the bench's topic by a thin EventLog wrapper, so the shared topic is left alone.
 *
 *   npm run bench:consumer            BENCH_EVENTS=50000 npm run bench:consumer
 *
 * Each of (a) and (b) first reads the whole topic once untimed, in a group of its own (BENCH_WARMUP=0
 * skips this): the timed passes then run on warm code, so the one run first does not also pay the JIT's
 * warm-up of the kafkajs code both share.
 *
 * It then reads the topic without the engine, through the same subscription (BENCH_BREAKDOWN=0 skips
 * this): (c) its records alone (kafkajs messages converted to records: key, offset, headers, timestamp)
 * and (d) those records decoded and checked as the engine does (UTF-8, JSON, the contract's fast check).
 * What separates (a) from (d) is the engine; (d) from (b) is the work the bare loop leaves out.
 */
import { randomUUID } from "node:crypto"
import { NodeRuntime } from "@effect/platform-node"
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { type ConsumerGroup, deadLetterTopic, notificationService, productEventsTopic } from "../src/domain/Consumers.js"
import * as EventLogKafka from "../src/layers/EventLogKafka.js"
import * as ConsumerEngine from "../src/services/ConsumerEngine.js"
import { decodeRecord } from "../src/services/consumer/Decode.js"
import { EventLog } from "../src/services/EventLog.js"
import { Metrics } from "../src/services/Metrics.js"
import { benchMessage } from "./events.js"
import { cpuMillis } from "./support/cpu.js"

const total = Number(process.env["BENCH_EVENTS"] ?? 200_000)
const sellers = 5_000
const partitions = 12
const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")
const run = randomUUID().slice(0, 8)
const topic = `bench_consumer_${run}`
const engineGroup = `bench_engine_${run}` as ConsumerGroup
const bareGroup = `bench_bare_${run}`
const warmUp = process.env["BENCH_WARMUP"] !== "0"
const warmGroup = (group: string) => `${group}_warmup`

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

const engine = (group: ConsumerGroup) => Effect.gen(function*() {
  let handled = 0
  const done = yield* Deferred.make<number>()
  const started = Date.now()
  const cpuStarted = cpuMillis()
  const fiber = yield* ConsumerEngine.run({
    contract: { ...notificationService, group },
    // A synchronous no-op, as the bare loop's: it returns a completed effect, so the engine's dispatcher
    // finishes each record in plain code, without a lane or a fiber step per record.
    handle: () => {
      if (++handled === total) Deferred.unsafeDone(done, Effect.succeed(Date.now()))
      return Effect.void
    }
  }).pipe(Effect.provide(BenchTopic), Effect.fork)
  const finished = yield* Deferred.await(done).pipe(Effect.timeout("10 minutes"))
  const cpu = cpuMillis() - cpuStarted
  yield* Fiber.interrupt(fiber)
  return { consumed: handled, ms: finished - started, cpu }
})

/** The subscription's records without the engine: counted, or decoded and checked as the engine does. */
const subscriptionOnly = (decode: boolean) =>
  Effect.gen(function*() {
    const log = yield* EventLog
    let consumed = 0
    const started = Date.now()
    const cpuStarted = cpuMillis()
    const subscription = yield* log.subscribe({ group: `${engineGroup}_${decode ? "decoded" : "records"}`, topics: [topic] })
    yield* subscription.records.pipe(
      Stream.take(total),
      Stream.timeout("10 minutes"),
      Stream.runForEachChunk((chunk) =>
        Effect.sync(() => {
          for (const record of chunk) if (!decode || decodeRecord(record)._tag === "Right") consumed++
        })
      )
    )
    return { consumed, ms: Date.now() - started, cpu: cpuMillis() - cpuStarted }
  }).pipe(Effect.scoped)

const bare = (groupId: string) => Effect.promise(async () => {
  const kafka = new Kafka({ clientId: "bench-bare", brokers, logLevel: logLevel.WARN })
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 })
  let consumed = 0
  let finished = 0
  let cpu = 0
  const started = Date.now()
  const cpuStarted = cpuMillis()
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
          cpu = cpuMillis() - cpuStarted
          resolve()
        }
      }
    })
  })
  await done
  await consumer.disconnect()
  return { consumed, ms: finished - started, cpu }
})

const cleanUp = Effect.promise(async () => {
  const admin = new Kafka({ clientId: "bench-admin", brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.deleteTopics({ topics: [topic, deadLetterTopic(engineGroup)] }).catch(() => undefined)
  const groups = [engineGroup, bareGroup, `${engineGroup}_records`, `${engineGroup}_decoded`]
  await admin.deleteGroups(warmUp ? [...groups, warmGroup(engineGroup), warmGroup(bareGroup)] : groups).catch(() => undefined)
  await admin.disconnect()
})

const main = Effect.gen(function*() {
  yield* produceAll
  // BENCH_ONLY=engine: the engine alone (for a profile).
  const withBare = process.env["BENCH_ONLY"] !== "engine"
  if (warmUp) {
    const w = yield* engine(warmGroup(engineGroup) as ConsumerGroup)
    const v = withBare ? yield* bare(warmGroup(bareGroup)) : undefined
    yield* Effect.log(`warm-up: engine ${w.ms} ms${v === undefined ? "" : `, bare ${v.ms} ms`}`)
  }
  const a = yield* engine(engineGroup)
  yield* Effect.log(`engine done`)
  const b = withBare ? yield* bare(bareGroup) : { consumed: total, ms: 1, cpu: 1 }
  const lines = [
    `events: ${total} (${sellers} sellers, ${partitions} partitions, topic ${topic}; ${warmUp ? "after a warm-up pass of each" : "no warm-up"})`,
    `(a) consumer engine: ${a.consumed} consumed in ${a.ms} ms = ${rate(a.consumed, a.ms)} events/s (${Math.round(a.cpu)} ms CPU)`,
    `(b) bare eachBatch : ${b.consumed} consumed in ${b.ms} ms = ${rate(b.consumed, b.ms)} events/s (${Math.round(b.cpu)} ms CPU)`,
    `ratio engine/bare: ${(rate(a.consumed, a.ms) / rate(b.consumed, b.ms)).toFixed(2)} (by CPU time: ${(b.cpu / a.cpu).toFixed(2)})`
  ]
  const counts: Record<string, number> = { engine: a.consumed, bare: b.consumed }
  if (process.env["BENCH_BREAKDOWN"] !== "0" && withBare) {
    const c = yield* subscriptionOnly(false)
    const d = yield* subscriptionOnly(true)
    counts["records alone"] = c.consumed
    counts["records decoded"] = d.consumed
    lines.push(
      `(c) records alone  : ${c.consumed} in ${c.ms} ms = ${rate(c.consumed, c.ms)} events/s (${Math.round(c.cpu)} ms CPU)`,
      `(d) records decoded: ${d.consumed} in ${d.ms} ms = ${rate(d.consumed, d.ms)} events/s (${Math.round(d.cpu)} ms CPU)`,
      `ratio engine/(d): ${(rate(a.consumed, a.ms) / rate(d.consumed, d.ms)).toFixed(2)} (by CPU time: ${(d.cpu / a.cpu).toFixed(2)})`
    )
  }
  console.log(lines.join("\n"))
  if (Object.values(counts).some((n) => n !== total)) {
    return yield* Effect.dieMessage(`consumed counts differ from ${total}: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(", ")}`)
  }
}).pipe(
  Effect.ensuring(cleanUp),
  Effect.provide(Layer.merge(EventLogKafka.layer({ brokers, clientId: "bench" }), Metrics.Default))
)

NodeRuntime.runMain(main)
