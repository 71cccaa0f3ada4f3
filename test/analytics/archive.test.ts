import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Context, Effect, Layer, Option, Stream, TestClock } from "effect"
import { decodeArchive } from "../../src/domain/ArchiveEncoding.js"
import { deadLetterTopic } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import { combineAll, deltaOf, type LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { fromStoreItems, deltaItems } from "../../src/domain/SellerMetrics.js"
import { applyHot } from "../../src/services/analytics/HotMetrics.js"
import { EventLog } from "../../src/services/EventLog.js"
import { MetricsStore, MetricsStoreError } from "../../src/services/MetricsStore.js"
import { ObjectStore, ObjectStoreError } from "../../src/services/ObjectStore.js"
import { AnalyticsWorkers } from "../../src/workers/AnalyticsWorkers.js"
import { baseMillis, created, encode, product, updated } from "../support/events.js"
import { pipelineOver, recordOf, Stores } from "./pipelineSupport.js"
import type { SellerId } from "../../src/domain/Ids.js"

/** Full-size files from the first one on, unless `ramp` gives the first file's limits (the default's ramp-up). */
const settings = (maxBytes: number, tick: string, ramp?: { readonly firstBytes: number; readonly firstAge: string }) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map([
    ["ARCHIVE_MAX_BYTES", String(maxBytes)],
    ["ARCHIVE_MAX_AGE", "60 seconds"],
    ["ARCHIVE_IDLE", "5 seconds"],
    ["ARCHIVE_TICK", tick],
    ["ARCHIVE_FIRST_BYTES", String(ramp?.firstBytes ?? maxBytes)],
    ["ARCHIVE_FIRST_AGE", ramp?.firstAge ?? "60 seconds"]
  ])))


/** A fresh archive (as after a process start) over the given stores. */
const archiveOver = (
  stores: Context.Context<any>,
  maxBytes = 1 << 20,
  tick = "1 second",
  ramp?: { readonly firstBytes: number; readonly firstAge: string }
) => pipelineOver(stores, settings(maxBytes, tick, ramp))

/** A seller's product life: created, then price and stock changes. */
const life = (seller: string, n: number): Array<LifecycleEvent> => {
  const events: Array<LifecycleEvent> = [created(seller, "lamp", baseMillis) as LifecycleEvent]
  let state = product()
  for (let i = 1; i < n; i++) {
    const next = product({ stock: state.stock - 1, price: { amountMinor: state.price.amountMinor + i, currency: "EUR" } })
    events.push(updated(seller, "lamp", baseMillis + i, state, next) as LifecycleEvent)
    state = next
  }
  return events
}

const foldOf = (seller: string, events: ReadonlyArray<LifecycleEvent>) =>
  fromStoreItems(seller as SellerId, deltaItems(combineAll(events.map(deltaOf))))

const metricsOf = (seller: string) =>
  Effect.flatMap(MetricsStore, (store) => store.query(seller, "")).pipe(Effect.map((items) => fromStoreItems(seller as SellerId, items)))

const archivedLines = Effect.gen(function*() {
  const objects = yield* ObjectStore
  const summaries = yield* objects.list("events/")
  const files = yield* Effect.forEach(summaries, (s) => Effect.map(objects.get(s.key), (b) => ({ key: s.key, lines: decodeArchive(Option.getOrThrow(b)) })))
  return files
})

describe("AnalyticsArchive", () => {
  it.scoped("finishes records only once their file is uploaded, which an idle partition triggers", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* archiveOver(stores)
      const events = life("arc_a", 3)
      const finished: Array<number> = []
      for (const [offset, event] of events.entries()) {
        yield* archive.append(recordOf(event, 3, offset), event, () => finished.push(offset))
      }
      yield* TestClock.adjust("4 seconds")
      expect(finished).toEqual([])
      yield* TestClock.adjust("1 second")
      expect(finished).toEqual([0, 1, 2])
      const files = yield* Effect.provide(archivedLines, stores)
      expect(files.map((f) => f.key)).toEqual([
        "events/date=2026-11-26/hour=20/product-events-p003-00000000000000000000-00000000000000000002.ndjson.gz"
      ])
      expect(files[0]!.lines.map((l) => JSON.parse(l).eventId)).toEqual(events.map((e) => e.eventId))
      expect(yield* Effect.provide(metricsOf("arc_a"), stores)).toEqual(foldOf("arc_a", events))
    }))

  it.scoped("rolls over at the size limit and at the age limit while traffic continues", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const events = life("arc_b", 40)
      const limit = (JSON.stringify(encode(events[1]!)).length + 1) * 10
      const { archive } = yield* archiveOver(stores, limit)
      for (const [offset, event] of events.slice(0, 25).entries()) yield* archive.append(recordOf(event, 0, offset), event, () => {})
      yield* TestClock.adjust(0)
      const bySize = yield* Effect.provide(archivedLines, stores)
      expect(bySize).toHaveLength(2)
      for (const { lines } of bySize) {
        const bytes = lines.reduce((n, l) => n + l.length + 1, 0)
        // a file rolls with the line that reaches the limit: at or over it, and under it without that line
        expect(bytes).toBeGreaterThanOrEqual(limit)
        expect(bytes - lines[lines.length - 1]!.length - 1).toBeLessThan(limit)
      }

      // on another partition, one event every 4 s: never idle for 5 s, but 60 s after it opened the file rolls anyway
      const roomy = yield* archiveOver(stores)
      for (let i = 25; i < 40; i++) {
        yield* roomy.archive.append(recordOf(events[i]!, 1, i), events[i]!, () => {})
        yield* TestClock.adjust("4 seconds")
      }
      const byAge = (yield* Effect.provide(archivedLines, stores)).filter((f) => f.key.includes("-p001-"))
      expect(byAge.map((f) => f.lines.length)).toEqual([15])
      const all = (yield* Effect.provide(archivedLines, stores)).flatMap((f) => f.lines)
      expect(new Set(all).size).toBe(all.length)
    }))

  it.scoped("after a (re)start, a partition's first files roll small and young, doubling up to the full limits", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const events = life("arc_r", 40)
      const firstBytes = (JSON.stringify(encode(events[1]!)).length + 1) * 4
      // first file: ~4 lines or 1 s; then twice that, and so on; the full limits are 1 MiB and 60 s
      const { archive, close } = yield* archiveOver(stores, 1 << 20, "100 millis", { firstBytes, firstAge: "1 second" })
      const finished: Array<number> = []
      for (const [offset, event] of events.slice(0, 20).entries()) {
        yield* archive.append(recordOf(event, 2, offset), event, () => finished.push(offset))
      }
      yield* TestClock.adjust(0)
      const bySize = yield* Effect.provide(archivedLines, stores)
      expect(bySize.length).toBeGreaterThanOrEqual(2)
      for (const [n, { lines }] of bySize.entries()) {
        const bytes = lines.reduce((sum, l) => sum + l.length + 1, 0)
        expect(bytes).toBeGreaterThanOrEqual(firstBytes * 2 ** n)
        expect(bytes - lines[lines.length - 1]!.length - 1).toBeLessThan(firstBytes * 2 ** n)
      }
      yield* TestClock.adjust("5 seconds") // the rest rolls as the partition is idle
      expect(finished).toEqual(events.slice(0, 20).map((_, i) => i))

      // traffic that never goes idle, an event a second: the next file rolls at its age limit (2^files s), not 60 s
      const files = (yield* Effect.provide(archivedLines, stores)).length
      const ageLimit = 2 ** files
      expect(ageLimit).toBeLessThanOrEqual(8)
      for (let i = 20; i < 20 + ageLimit; i++) {
        yield* archive.append(recordOf(events[i]!, 2, i), events[i]!, () => finished.push(i))
        yield* TestClock.adjust("1 second")
      }
      const byAge = yield* Effect.provide(archivedLines, stores)
      expect(byAge.map((f) => f.lines.length).slice(files)).toEqual([ageLimit])
      expect(finished).toHaveLength(20 + ageLimit)

      // a crash with events in an open file (lost, uncommitted); the restarted member re-reads them and
      // starts the ramp again: its first file rolls after 1 s of steady traffic, where the full limits
      // would hold it for 60 s
      const resumeAt = 20 + ageLimit
      yield* archive.append(recordOf(events[resumeAt]!, 2, resumeAt), events[resumeAt]!, () => finished.push(resumeAt))
      yield* close
      const restarted = yield* archiveOver(stores, 1 << 20, "100 millis", { firstBytes: 1 << 20, firstAge: "1 second" })
      const afterRestart: Array<number> = []
      for (let i = resumeAt; i < 40; i++) {
        yield* restarted.archive.append(recordOf(events[i]!, 2, i), events[i]!, () => afterRestart.push(i))
        yield* TestClock.adjust("200 millis")
      }
      expect(afterRestart.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => resumeAt + i))
      yield* restarted.archive.flushAll
      const all = (yield* Effect.provide(archivedLines, stores)).flatMap((f) => f.lines.map((l) => JSON.parse(l).eventId))
      expect(all.sort()).toEqual(events.map((e) => e.eventId).sort())
      expect(yield* Effect.provide(metricsOf("arc_r"), stores)).toEqual(foldOf("arc_r", events))
    }))

  it.scoped("starts a new file when the hour of event time changes", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* archiveOver(stores)
      const first = created("arc_c", "p1", baseMillis) as LifecycleEvent
      const later = created("arc_c", "p2", baseMillis + 3_600_000) as LifecycleEvent
      yield* archive.append(recordOf(first, 1, 0), first, () => {})
      yield* archive.append(recordOf(later, 1, 1), later, () => {})
      yield* archive.flushAll
      const keys = (yield* Effect.provide(archivedLines, stores)).map((f) => f.key)
      expect(keys).toEqual([
        "events/date=2026-11-26/hour=20/product-events-p001-00000000000000000000-00000000000000000000.ndjson.gz",
        "events/date=2026-11-26/hour=21/product-events-p001-00000000000000000001-00000000000000000001.ndjson.gz"
      ])
    }))

  it.scoped("after a crash before the commit, redelivered events are neither archived nor counted twice", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const events = life("arc_d", 7)
      const first = yield* archiveOver(stores)
      for (let offset = 0; offset <= 4; offset++) yield* first.archive.append(recordOf(events[offset]!, 5, offset), events[offset]!, () => {})
      yield* first.archive.flushAll
      yield* first.close // the process dies; the last commit said offset 2

      const second = yield* archiveOver(stores)
      const finished: Array<number> = []
      for (let offset = 2; offset <= 6; offset++) {
        yield* second.archive.append(recordOf(events[offset]!, 5, offset), events[offset]!, () => finished.push(offset))
      }
      expect(finished).toEqual([2, 3, 4])
      yield* second.archive.flushAll
      expect(finished).toEqual([2, 3, 4, 5, 6])
      const lines = (yield* Effect.provide(archivedLines, stores)).flatMap((f) => f.lines.map((l) => JSON.parse(l).eventId))
      expect(lines.sort()).toEqual(events.map((e) => e.eventId).sort())
      expect(yield* Effect.provide(metricsOf("arc_d"), stores)).toEqual(foldOf("arc_d", events))
    }))

  it.scoped("uploads nothing of a revoked partition, whether its file is open or queued, and rolls a file once", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* archiveOver(stores)
      const hour20 = created("arc_g", "p1", baseMillis) as LifecycleEvent
      const hour21 = created("arc_g", "p2", baseMillis + 3_600_000) as LifecycleEvent
      const kept = created("arc_h", "p1", baseMillis) as LifecycleEvent
      const finished: Array<string> = []
      // partition 7: the hour-20 file is rolled (queued) by the hour change, the hour-21 file stays open
      yield* archive.append(recordOf(hour20, 7, 0), hour20, () => finished.push("7@0"))
      yield* archive.append(recordOf(hour21, 7, 1), hour21, () => finished.push("7@1"))
      yield* archive.append(recordOf(kept, 8, 0), kept, () => finished.push("8@0"))
      yield* archive.drop([{ topic: "product-events", partition: 7 }])
      yield* archive.flushAll
      yield* archive.flushAll
      const keys = (yield* Effect.provide(archivedLines, stores)).map((f) => f.key)
      expect(keys).toEqual(["events/date=2026-11-26/hour=20/product-events-p008-00000000000000000000-00000000000000000000.ndjson.gz"])
      expect(yield* Effect.provide(metricsOf("arc_g"), stores)).toEqual(foldOf("arc_g", []))
      expect(finished).toContain("8@0")
    }))

  it.scoped("a run cut differently after a crash adds to the hot store only what it had not", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const events = life("arc_e", 8)
      const entries = events.map((event, offset) => ({ record: recordOf(event, 2, offset), event, json: encode(event) as never }))
      const run = (from: number, to: number) =>
        Effect.provide(
          Effect.flatMap(Effect.all([AnalyticsWorkers, MetricsStore]), ([w, s]) => applyHot(w, s, 2, entries.slice(from, to + 1))),
          stores
        )
      yield* run(0, 4)
      yield* run(2, 7) // overlaps 2..4
      yield* run(0, 7) // wholly applied already
      expect(yield* Effect.provide(metricsOf("arc_e"), stores)).toEqual(foldOf("arc_e", events))
    }))

  it.scoped("retries a failing hot store by the analytics policy, then dead-letters the file's events", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const attempts: Array<number> = []
      const failing = MetricsStore.of({
        ...Context.get(stores, MetricsStore),
        apply: () =>
          Effect.flatMap(TestClock.currentTimeMillis, (now) => {
            // An attempt applies the batch's items concurrently: its calls share one time.
            if (attempts.at(-1) !== now) attempts.push(now)
            return Effect.fail(new MetricsStoreError({ operation: "apply", cause: "throttled" }))
          })
      })
      const { archive } = yield* archiveOver(Context.add(stores, MetricsStore, failing), 1 << 20, "5 seconds")
      const events = life("arc_f", 2)
      const finished: Array<number> = []
      for (const [offset, event] of events.entries()) yield* archive.append(recordOf(event, 4, offset), event, () => finished.push(offset))
      const start = yield* TestClock.currentTimeMillis
      yield* TestClock.adjust("5 seconds") // idle: the file rolls, the first attempt fails
      for (let i = 0; i < 12; i++) yield* TestClock.adjust("300 seconds")
      expect(attempts).toHaveLength(11)
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!)
      const nominal = [2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * 1000)
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(Math.floor(nominal[i]! * 0.8))
        expect(gap).toBeLessThanOrEqual(Math.min(nominal[i]! * 1.2, 300_000) + 1000)
      })
      expect(attempts[0]! - start).toBeLessThanOrEqual(6000)
      expect(finished).toEqual([0, 1])
      const log = Context.get(stores, EventLog)
      const ends = yield* log.endOffsets(deadLetterTopic("analytics-service"))
      expect(ends.reduce((n, p) => n + p.offset, 0)).toBe(2)
      const sub = yield* log.subscribe({ group: "dlq-reader", topics: [deadLetterTopic("analytics-service")] })
      const letters = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(sub.records, 2)))
      expect(letters.map((r) => r.headers[deadLetterHeaders.reason])).toEqual(["retries-exhausted", "retries-exhausted"])
      expect(letters.map((r) => r.headers[deadLetterHeaders.attempts])).toEqual(["11", "11"])
      // their claims were given up: a replay of the same events at other offsets counts them
      const store = Context.get(stores, MetricsStore)
      for (const event of events) expect(yield* store.claim("arc_f", event.eventId, "4:1000")).toBe(true)
    }))

  it.scoped("once a file is counted, a failing upload is retried past the policy, never dead-lettered", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const real = Context.get(stores, ObjectStore)
      let puts = 0
      let healthyFrom = Infinity
      const flaky = ObjectStore.of({
        ...real,
        put: (key, bytes, options) =>
          Effect.flatMap(TestClock.currentTimeMillis, (now) => {
            puts++
            return now < healthyFrom ? Effect.fail(new ObjectStoreError({ operation: "put", cause: "unavailable" })) : real.put(key, bytes, options)
          })
      })
      const { archive } = yield* archiveOver(Context.add(stores, ObjectStore, flaky), 1 << 20, "5 seconds")
      const events = life("arc_g", 3)
      const finished: Array<number> = []
      for (const [offset, event] of events.entries()) yield* archive.append(recordOf(event, 5, offset), event, () => finished.push(offset))
      healthyFrom = (yield* TestClock.currentTimeMillis) + 40 * 60_000
      yield* TestClock.adjust("5 seconds")
      // Past the analytics policy (11 attempts, about 25 minutes): still retrying, nothing dead-lettered.
      for (let i = 0; i < 6; i++) yield* TestClock.adjust("5 minutes")
      expect(puts).toBeGreaterThan(11)
      expect(finished).toEqual([])
      const log = Context.get(stores, EventLog)
      expect((yield* log.endOffsets(deadLetterTopic("analytics-service"))).reduce((n, p) => n + p.offset, 0)).toBe(0)
      // Counted once meanwhile, however many attempts.
      expect(yield* Effect.provide(metricsOf("arc_g"), stores)).toEqual(foldOf("arc_g", events))

      for (let i = 0; i < 4; i++) yield* TestClock.adjust("5 minutes")
      expect(finished).toEqual([0, 1, 2])
      expect(yield* Effect.provide(metricsOf("arc_g"), stores)).toEqual(foldOf("arc_g", events))
      const files = yield* Effect.provide(archivedLines, stores)
      expect(files.filter((f) => f.key.includes("-p005-")).map((f) => f.lines.length)).toEqual([3])
    }))
})
