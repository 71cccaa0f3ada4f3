import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Layer, Option, Stream, TestClock } from "effect"
import { decodeArchive } from "../../src/domain/ArchiveEncoding.js"
import { deadLetterTopic } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import type { SellerId } from "../../src/domain/Ids.js"
import { combineAll, deltaOf, type LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { deltaItems, fromStoreItems } from "../../src/domain/SellerMetrics.js"
import { EventLog, EventLogError } from "../../src/services/EventLog.js"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import { ObjectStore } from "../../src/services/ObjectStore.js"
import { AnalyticsWorkers } from "../../src/workers/AnalyticsWorkers.js"
import { baseMillis, created } from "../support/events.js"
import { pipelineOver, pipelineSettings, recordOf, Stores, throttledUntilHealed } from "./pipelineSupport.js"

/**
 * The dead-letter topic out of reach just when the pipeline gives up on a hot batch or an archive
 * file: the dead letters wait and go out once it is back, and the partition goes on after them,
 * every record counted or dead-lettered, archived or dead-lettered, once, and finished.
 */

/** `tick`: how often the archive looks for idle files (30 s for an hour of test time without thousands of wake-ups). */
const settings = (tick: string) => pipelineSettings({ ARCHIVE_TICK: tick, HOT_MAX_WAIT: "500 millis" })

const dlq = deadLetterTopic("analytics-service")

/** How the dead-letter topic is out of reach: the broker refuses the produce, or its client fails with a defect. */
const outages = {
  "refused by the broker": () => Effect.fail(new EventLogError({ operation: "produce", cause: "broker unavailable" })),
  "failing in its client (a defect)": () => Effect.die(new Error("producer client crashed"))
} as const

/** The real in-memory log, except that its first `times` produces to the dead-letter topic fail; `failed` counts those. */
const deadLettersFailing = (log: EventLog["Type"], times: number, fail: () => Effect.Effect<never, EventLogError>) => {
  let failed = 0
  return {
    failed: () => failed,
    log: EventLog.of({
      ...log,
      produce: (topic, messages) =>
        Effect.suspend(() => (topic === dlq && failed < times ? (failed++, fail()) : log.produce(topic, messages)))
    })
  }
}

/** One product created per event, so that each seller's metrics are the fold of exactly the events counted. */
const events = (seller: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => created(seller, `p${from + i}`, baseMillis + from + i) as LifecycleEvent)

const deadLettered = (stores: Context.Context<any>) =>
  Effect.gen(function*() {
    const log = Context.get(stores, EventLog)
    const total = (yield* log.endOffsets(dlq)).reduce((n, p) => n + p.offset, 0)
    const subscription = yield* log.subscribe({ group: "dlq-reader", topics: [dlq] })
    const letters = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(subscription.records, total)))
    return letters.map((r) => ({ offset: Number(r.headers[deadLetterHeaders.sourceOffset]), reason: r.headers[deadLetterHeaders.reason] }))
  }).pipe(Effect.scoped)

const archivedEventIds = (stores: Context.Context<any>) =>
  Effect.gen(function*() {
    const objects = Context.get(stores, ObjectStore)
    const files = yield* Effect.forEach(yield* objects.list("events/"), (s) => Effect.map(objects.get(s.key), (b) => decodeArchive(Option.getOrThrow(b))))
    return files.flat().map((line) => JSON.parse(line).eventId as string)
  })

const metricsOf = (stores: Context.Context<any>, seller: string) =>
  Effect.map(Context.get(stores, MetricsStore).query(seller, ""), (items) => fromStoreItems(seller as SellerId, items))

const foldOf = (seller: string, counted: ReadonlyArray<LifecycleEvent>) =>
  fromStoreItems(seller as SellerId, deltaItems(combineAll(counted.map(deltaOf))))

describe("analytics pipeline with the dead-letter topic out of reach", () => {
  for (const [outage, fail] of Object.entries(outages)) {
    it.scoped(`an archive file given up on (${outage}): dead-lettered once it is back, later files archived`, () =>
      Effect.gen(function*() {
        const stores = yield* Layer.build(Stores)
        const workers = Context.get(stores, AnalyticsWorkers)
        let encodes = 0
        // The first file's request does not encode (a bug): its events are dead-lettered, not retried.
        const firstBroken = AnalyticsWorkers.of({
          ...workers,
          encodeArchive: (lines) => Effect.suspend(() => (++encodes === 1 ? Effect.die(new Error("request does not encode")) : workers.encodeArchive(lines)))
        })
        const { failed, log } = deadLettersFailing(Context.get(stores, EventLog), 3, fail)
        const { archive } = yield* pipelineOver(Context.add(Context.add(stores, AnalyticsWorkers, firstBroken), EventLog, log), settings("1 second"))
        const all = events("dl_cold", 0, 4)
        const finished: Array<number> = []
        const append = (from: number, to: number) =>
          Effect.forEach(all.slice(from, to), (event, i) => archive.append(recordOf(event, 7, from + i), event, () => finished.push(from + i)), { discard: true })

        yield* append(0, 2)
        yield* TestClock.adjust("5 seconds") // idle: the first file rolls; its upload dies, its dead letters fail
        expect(finished).toEqual([])
        yield* TestClock.adjust("1 second") // the dead letters' retries (100, 200, 400 ms): out on the fourth attempt
        expect(finished).toEqual([0, 1])

        yield* append(2, 4)
        yield* TestClock.adjust("6 seconds")
        expect(finished).toEqual([0, 1, 2, 3])
        expect(yield* deadLettered(stores)).toEqual([{ offset: 0, reason: "non-retriable" }, { offset: 1, reason: "non-retriable" }])
        expect(yield* archivedEventIds(stores)).toEqual(all.slice(2).map((e) => e.eventId))
        expect(yield* metricsOf(stores, "dl_cold")).toEqual(foldOf("dl_cold", all))
        expect(failed()).toBe(3)
      }))

    it.scoped(`a hot batch given up on (${outage}): dead-lettered once it is back, later batches counted and archived`, () =>
      Effect.gen(function*() {
        const stores = yield* Layer.build(Stores)
        // Throttled past the analytics policy (11 attempts, about 25 minutes), nothing written: the batch is given up on.
        const throttled = throttledUntilHealed(Context.get(stores, MetricsStore))
        const { failed, log } = deadLettersFailing(Context.get(stores, EventLog), 3, fail)
        const { archive } = yield* pipelineOver(Context.add(Context.add(stores, MetricsStore, throttled.store), EventLog, log), settings("30 seconds"))
        const all = events("dl_hot", 0, 4)
        const finished: Array<number> = []
        const append = (from: number, to: number) =>
          Effect.forEach(all.slice(from, to), (event, i) => archive.append(recordOf(event, 8, from + i), event, () => finished.push(from + i)), { discard: true })

        throttled.healAt((yield* TestClock.currentTimeMillis) + 40 * 60_000)
        yield* append(0, 2)
        for (let i = 0; i < 8; i++) yield* TestClock.adjust("5 minutes")
        // Given up on, its dead letters out after their retries; nothing of it to archive.
        expect(finished).toEqual([0, 1])

        yield* append(2, 4)
        yield* TestClock.adjust("35 seconds")
        expect(finished).toEqual([0, 1, 2, 3])
        expect(yield* deadLettered(stores)).toEqual([{ offset: 0, reason: "retries-exhausted" }, { offset: 1, reason: "retries-exhausted" }])
        expect(yield* archivedEventIds(stores)).toEqual(all.slice(2).map((e) => e.eventId))
        expect(yield* metricsOf(stores, "dl_hot")).toEqual(foldOf("dl_hot", all.slice(2)))
        expect(failed()).toBe(3)
      }))
  }
})
