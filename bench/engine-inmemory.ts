/**
 * The consumer engine alone, without Kafka: 200,000 small valid events keyed by 5,000 sellers on the
 * in-memory event log (12 partitions), consumed (a) by the engine (decode, lanes, watermark commits, a
 * no-op handler) and (b) by a bare loop over the same in-memory subscription stream doing the same
 * decode (UTF-8, JSON, the contract's fast check). Quick to iterate on; `npm run bench:consumer`
 * measures the engine against a bare kafkajs loop on the real broker.
 *
 *   npm run bench:engine            BENCH_EVENTS=50000 npm run bench:engine
 */
import { NodeRuntime } from "@effect/platform-node"
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { notificationService, productEventsTopic } from "../src/domain/Consumers.js"
import * as EventLogMemory from "../src/layers/EventLogMemory.js"
import * as ConsumerEngine from "../src/services/ConsumerEngine.js"
import { decodeRecord } from "../src/services/consumer/Decode.js"
import { EventLog } from "../src/services/EventLog.js"
import { Metrics } from "../src/services/Metrics.js"
import { benchMessage } from "./events.js"
import { cpuMillis } from "./support/cpu.js"

const total = Number(process.env["BENCH_EVENTS"] ?? 200_000)
const sellers = 5_000
const partitions = 12

const message = (i: number) => benchMessage(i, sellers)

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)

const produceAll = Effect.gen(function*() {
  const log = yield* EventLog
  yield* log.ensureTopic(productEventsTopic, partitions)
  for (let from = 0; from < total; from += 5_000) {
    yield* log.produce(productEventsTopic, Array.from({ length: Math.min(5_000, total - from) }, (_, k) => message(from + k)))
  }
})

const engine = Effect.gen(function*() {
  let handled = 0
  const done = yield* Deferred.make<number>()
  const started = Date.now()
  const cpuStarted = cpuMillis()
  const fiber = yield* ConsumerEngine.run({
    contract: notificationService,
    // A synchronous no-op, as the bare loop's: it returns a completed effect, so the engine's dispatcher
    // finishes each record in plain code, without a lane or a fiber step per record.
    handle: () => {
      if (++handled === total) Deferred.unsafeDone(done, Effect.succeed(Date.now()))
      return Effect.void
    }
  }).pipe(Effect.fork)
  const finished = yield* Deferred.await(done)
  const cpu = cpuMillis() - cpuStarted
  yield* Fiber.interrupt(fiber)
  return { consumed: handled, ms: finished - started, cpu }
})

const bare = Effect.gen(function*() {
  const log = yield* EventLog
  let consumed = 0
  const started = Date.now()
  const cpuStarted = cpuMillis()
  const subscription = yield* log.subscribe({ group: "bench-bare", topics: [productEventsTopic] })
  yield* subscription.records.pipe(
    Stream.take(total),
    Stream.runForEachChunk((chunk) =>
      Effect.sync(() => {
        for (const record of chunk) {
          if (decodeRecord(record)._tag === "Right") consumed++
        }
      })
    )
  )
  return { consumed, ms: Date.now() - started, cpu: cpuMillis() - cpuStarted }
}).pipe(Effect.scoped)

const main = Effect.gen(function*() {
  yield* produceAll
  // BENCH_ONLY=engine: the engine alone (for a profile).
  const b = process.env["BENCH_ONLY"] === "engine" ? { consumed: total, ms: 1, cpu: 1 } : yield* bare
  const a = yield* engine
  const lines = [
    `events: ${total} (${sellers} sellers, ${partitions} partitions, in-memory log)`,
    `(a) consumer engine: ${a.consumed} consumed in ${a.ms} ms = ${rate(a.consumed, a.ms)} events/s (${Math.round(a.cpu)} ms CPU)`,
    `(b) bare stream    : ${b.consumed} consumed in ${b.ms} ms = ${rate(b.consumed, b.ms)} events/s (${Math.round(b.cpu)} ms CPU)`,
    `ratio engine/bare: ${(rate(a.consumed, a.ms) / rate(b.consumed, b.ms)).toFixed(2)} (by CPU time: ${(b.cpu / a.cpu).toFixed(2)})`
  ]
  console.log(lines.join("\n"))
  if (a.consumed !== total || b.consumed !== total) {
    return yield* Effect.dieMessage(`consumed counts differ from ${total}: engine ${a.consumed}, bare ${b.consumed}`)
  }
}).pipe(Effect.provide(Layer.merge(EventLogMemory.layerMemory(), Metrics.Default)))

NodeRuntime.runMain(main)
