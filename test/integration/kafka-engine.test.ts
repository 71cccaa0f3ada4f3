import { expect, layer } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Ref, Schedule, Stream } from "effect"
import { type ConsumerContract, type ConsumerGroup, deadLetterTopic, notificationService } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog, type LogRecord } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { unique } from "../support/unique.js"
import { event, message, Rejected } from "../engine/fixtures.js"
import { kafkaLayer, withProductEventsAs } from "./kafka-support.js"

/**
 * The consumer engine on the real broker, each test on a 12-partition topic and a group of its own
 * (the engine's `product-events` is renamed to it, see `withProductEventsAs`).
 */

const partitions = 12
const contractFor = (group: string): ConsumerContract => ({ ...notificationService, group: group as ConsumerGroup })
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const sequenceOf = (e: ProductEvent) => Number(e.data.productId.replace("sku_", ""))

/** A fresh topic, its group and the group's dead-letter topic. */
const setup = Effect.gen(function*() {
  const log = yield* EventLog
  const topic = unique("engine")
  const group = unique("g")
  yield* log.ensureTopic(topic, partitions)
  yield* log.ensureTopic(deadLetterTopic(group as ConsumerGroup), 1)
  return { topic, group, contract: contractFor(group) }
})

/** Runs the engine in the background; interrupting the fiber drains and commits. */
const startEngine = <E extends { readonly retriable: boolean }>(
  topic: string,
  options: Omit<ConsumerEngine.RunOptions<E, never>, "stats">
) => ConsumerEngine.run(options).pipe(Effect.provide(withProductEventsAs(topic)), Effect.fork)

const awaitCount = <A>(ref: Ref.Ref<ReadonlyArray<A>>, n: number) =>
  Ref.get(ref).pipe(
    Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (seen) => seen.length >= n }),
    Effect.zipRight(Ref.get(ref)),
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error(`fewer than ${n} events handled`) })
  )

/** Waits until every one of `ids` was handled (the markers); returns everything handled so far. */
const awaitAll = (ref: Ref.Ref<ReadonlyArray<string>>, ids: ReadonlyArray<string>) =>
  Ref.get(ref).pipe(
    Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (seen) => ids.every((id) => seen.includes(id)) }),
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error(`not all of ${ids.length} marker events handled`) })
  )

const readAll = (topic: string, n: number) =>
  Effect.flatMap(EventLog, (log) => log.subscribe({ group: unique("reader"), topics: [topic] })).pipe(
    Effect.flatMap((s) => Stream.runCollect(Stream.take(s.records, n))),
    Effect.map(Chunk.toReadonlyArray),
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error(`fewer than ${n} records in ${topic}`) }),
    Effect.scoped
  )

/** Every partition that holds records is committed up to its end. */
const expectAllCommitted = (group: string, topic: string) =>
  Effect.gen(function*() {
    const log = yield* EventLog
    const used = (yield* log.endOffsets(topic)).filter((e) => e.offset > 0)
    const committed = yield* log.committed(group, topic)
    expect(committed.filter((c) => used.some((e) => e.partition === c.partition))).toEqual(used)
  })

layer(Layer.merge(kafkaLayer(), Metrics.Default), { excludeTestServices: true, timeout: "60 seconds" })(
  "consumer engine on Kafka",
  (it) => {
    it.effect("applies each seller's events in produced order across 12 partitions", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const { contract, group, topic } = yield* setup
        const sellers = Array.from({ length: 300 }, (_, i) => `seller_${i}`)
        const perSeller = 8
        const events = Array.from({ length: perSeller }, (_, n) => sellers.map((s) => event(s, n))).flat()
        yield* log.produce(topic, events.map(message))

        const seen = yield* Ref.make<ReadonlyArray<readonly [string, number]>>([])
        const engine = yield* startEngine(topic, {
          contract,
          handle: (e) =>
            Effect.sleep(`${Math.floor(Math.random() * 3)} millis`).pipe(
              Effect.zipRight(Ref.update(seen, (all) => [...all, [e.data.sellerId, sequenceOf(e)] as const]))
            )
        })
        const handled = yield* awaitCount(seen, events.length)
        yield* Fiber.interrupt(engine)

        expect(handled.length).toBe(events.length)
        const bySeller = new Map<string, Array<readonly [string, number]>>()
        for (const entry of handled) bySeller.set(entry[0], [...(bySeller.get(entry[0]) ?? []), entry])
        expect(bySeller.size).toBe(sellers.length)
        for (const seller of sellers) {
          expect(bySeller.get(seller)!.map(([, n]) => n)).toEqual(Array.from({ length: perSeller }, (_, n) => n))
        }
        const ends = yield* log.endOffsets(topic)
        expect(ends.filter((e) => e.offset > 0).length).toBe(partitions)
        expect(yield* log.committed(group, topic)).toEqual(ends)
      }))

    it.effect("dead letters land in the real DLQ topic with the original bytes and their headers", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const { contract, group, topic } = yield* setup
        const good = event("seller_ok", 1)
        const refused = event("seller_refused", 2)
        const garbage = { key: "seller_bad", value: new TextEncoder().encode("{not json"), headers: { eventType: "ProductCreated" } }
        const positions = yield* log.produce(topic, [message(good), message(refused), garbage])

        const done = yield* Ref.make<ReadonlyArray<string>>([])
        const engine = yield* startEngine(topic, {
          contract,
          handle: (e) =>
            e.data.sellerId === "seller_refused"
              ? Effect.fail(new Rejected({ message: "refused by the test" }))
              : Ref.update(done, (all) => [...all, e.eventId])
        })
        const dead = yield* readAll(deadLetterTopic(group as ConsumerGroup), 2)
        yield* Fiber.interrupt(engine)

        expect(yield* Ref.get(done)).toEqual([good.eventId])
        const byReason = new Map(dead.map((r: LogRecord) => [r.headers[deadLetterHeaders.reason], r]))
        const decodeFailed = byReason.get("decode-failed")!
        expect(text(decodeFailed.value)).toBe("{not json")
        expect(decodeFailed.key).toBe("seller_bad")
        expect(decodeFailed.headers).toMatchObject({
          eventType: "ProductCreated",
          [deadLetterHeaders.sourceTopic]: topic,
          [deadLetterHeaders.sourcePartition]: String(positions[2]!.partition),
          [deadLetterHeaders.sourceOffset]: String(positions[2]!.offset),
          [deadLetterHeaders.attempts]: "1",
          [deadLetterHeaders.consumerGroup]: group
        })
        const nonRetriable = byReason.get("non-retriable")!
        expect(JSON.parse(text(nonRetriable.value))).toEqual(refused)
        expect(nonRetriable.headers[deadLetterHeaders.error]).toContain("refused by the test")
        expect(nonRetriable.headers[deadLetterHeaders.sourceOffset]).toBe(String(positions[1]!.offset))
        yield* expectAllCommitted(group, topic)
      }))

    it.effect("commits on shutdown: a restarted engine consumes nothing twice", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const { contract, topic } = yield* setup
        const seen = yield* Ref.make<ReadonlyArray<string>>([])
        // No periodic commit within the test: what the restart skips was committed at shutdown.
        const options = {
          contract,
          commitInterval: "1 hour",
          handle: (e: ProductEvent) => Ref.update(seen, (all) => [...all, e.eventId])
        } as const
        const first = Array.from({ length: 200 }, (_, i) => event(`seller_${i % 40}`, i))
        yield* log.produce(topic, first.map(message))
        const engine = yield* startEngine(topic, options)
        yield* awaitCount(seen, first.length)
        yield* Fiber.interrupt(engine)

        // Every seller of the first batch has events in the second: a record a missing commit would
        // redeliver precedes, on its seller's partition and so in its seller's order, the second batch's.
        const second = Array.from({ length: 50 }, (_, i) => event(`seller_${i % 40}`, 1000 + i))
        expect(new Set(second.map((e) => e.data.sellerId))).toEqual(new Set(first.map((e) => e.data.sellerId)))
        yield* log.produce(topic, second.map(message))
        const restarted = yield* startEngine(topic, options)
        yield* awaitAll(seen, second.map((e) => e.eventId))
        yield* Fiber.interrupt(restarted)

        const ids = yield* Ref.get(seen)
        expect(ids.length).toBe(first.length + second.length)
        expect(new Set(ids).size).toBe(ids.length)
      }))
  }
)
