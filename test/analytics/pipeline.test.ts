import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, TestClock } from "effect"
import { decodeArchive } from "../../src/domain/ArchiveEncoding.js"
import { deadLetterTopic } from "../../src/domain/Consumers.js"
import type { SellerId } from "../../src/domain/Ids.js"
import { combineAll, deltaOf, type LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { deltaItems, fromStoreItems } from "../../src/domain/SellerMetrics.js"
import { EventLog } from "../../src/services/EventLog.js"
import { MetricsStore, MetricsStoreError } from "../../src/services/MetricsStore.js"
import { ObjectStore } from "../../src/services/ObjectStore.js"
import { baseMillis, created, product, updated } from "../support/events.js"
import { pipelineOver as freshPipeline, pipelineSettings, recordOf, Stores } from "./pipelineSupport.js"

/**
 * The two paths of the analytics pipeline and the boundaries between them: hot metrics fresh after a
 * micro-batch, whatever the archive's roll-over; a crash between the hot apply and the upload; a
 * batch whose writes partly succeeded before the store failed for longer than the retry policy.
 */

const settings = (hot: { readonly maxEvents?: number; readonly archiveTick?: string } = {}) =>
  pipelineSettings({ ARCHIVE_TICK: hot.archiveTick ?? "1 second", HOT_MAX_EVENTS: String(hot.maxEvents ?? 500), HOT_MAX_WAIT: "500 millis" })


/** A fresh pipeline (as after a process start) over the stores; `crash` stops it without flushing anything. */
const pipelineOver = (stores: Context.Context<any>, hot: { readonly maxEvents?: number; readonly archiveTick?: string } = {}) =>
  Effect.map(freshPipeline(stores, settings(hot)), ({ archive, close }) => ({ archive, crash: close }))

/** Sellers' product lives, interleaved: created, then price and stock changes. */
const lives = (sellers: ReadonlyArray<string>, n: number): Array<LifecycleEvent> => {
  const events: Array<LifecycleEvent> = []
  const states = sellers.map(() => product())
  for (let i = 0; i < n; i++) {
    sellers.forEach((seller, s) => {
      if (i === 0) return events.push(created(seller, "lamp", baseMillis) as LifecycleEvent)
      const next = product({ stock: states[s]!.stock - 1, price: { amountMinor: states[s]!.price.amountMinor + i, currency: "EUR" } })
      events.push(updated(seller, "lamp", baseMillis + i, states[s]!, next) as LifecycleEvent)
      states[s] = next
    })
  }
  return events
}

const foldOf = (seller: string, events: ReadonlyArray<LifecycleEvent>) =>
  fromStoreItems(seller as SellerId, deltaItems(combineAll(events.filter((e) => e.data.sellerId === seller).map(deltaOf))))

const metricsOf = (stores: Context.Context<any>, seller: string) =>
  Effect.map(Context.get(stores, MetricsStore).query(seller, ""), (items) => fromStoreItems(seller as SellerId, items))

const archivedEventIds = (stores: Context.Context<any>) =>
  Effect.gen(function*() {
    const objects = Context.get(stores, ObjectStore)
    const summaries = yield* objects.list("events/")
    const files = yield* Effect.forEach(summaries, (s) => Effect.map(objects.get(s.key), (b) => decodeArchive(Option.getOrThrow(b))))
    return files.flat().map((line) => JSON.parse(line).eventId as string)
  })

type Archive = Effect.Effect.Success<ReturnType<typeof freshPipeline>>["archive"]

/** Appends the events on `partition` at offsets 0, 1, …; `finished` hears each offset the engine may commit. */
const appendAll = (archive: Archive, events: ReadonlyArray<LifecycleEvent>, partition: number, finished: (offset: number) => void = () => {}) =>
  Effect.forEach(events, (event, offset) => archive.append(recordOf(event, partition, offset), event, () => finished(offset)), { discard: true })

/** Exactly once: each seller's metrics are the fold of its events, and the archive holds every event once. */
const expectExactlyOnce = (stores: Context.Context<any>, sellers: ReadonlyArray<string>, events: ReadonlyArray<LifecycleEvent>) =>
  Effect.gen(function*() {
    for (const seller of sellers) expect(yield* metricsOf(stores, seller)).toEqual(foldOf(seller, events))
    expect((yield* archivedEventIds(stores)).sort()).toEqual(events.map((e) => e.eventId).sort())
  })

const deadLetters = (stores: Context.Context<any>) =>
  Effect.map(Context.get(stores, EventLog).endOffsets(deadLetterTopic("analytics-service")), (ends) => ends.reduce((n, p) => n + p.offset, 0))

describe("analytics pipeline", () => {
  it.scoped("hot metrics follow within a micro-batch, long before the archive file rolls", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* pipelineOver(stores)
      const events = lives(["hot_a"], 4)
      const finished: Array<number> = []
      yield* appendAll(archive, events, 0, (offset) => finished.push(offset))
      yield* TestClock.adjust("499 millis")
      expect(yield* metricsOf(stores, "hot_a")).toEqual(foldOf("hot_a", []))
      yield* TestClock.adjust("1 millis")
      expect(yield* metricsOf(stores, "hot_a")).toEqual(foldOf("hot_a", events))
      // Counted, not archived yet: not finished for the commit.
      expect(finished).toEqual([])
      expect(yield* archivedEventIds(stores)).toEqual([])
      yield* TestClock.adjust("5 seconds")
      expect(finished).toEqual([0, 1, 2, 3])
      expect((yield* archivedEventIds(stores)).sort()).toEqual(events.map((e) => e.eventId).sort())
    }))

  it.scoped("a micro-batch rolls at its event limit without waiting for its timer", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* pipelineOver(stores, { maxEvents: 3 })
      const events = lives(["hot_b"], 4)
      yield* appendAll(archive, events, 0)
      yield* TestClock.adjust(0)
      expect(yield* metricsOf(stores, "hot_b")).toEqual(foldOf("hot_b", events.slice(0, 3)))
      yield* TestClock.adjust("500 millis")
      expect(yield* metricsOf(stores, "hot_b")).toEqual(foldOf("hot_b", events))
    }))

  it.scoped("an event published twice (another record) is counted and archived once", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* pipelineOver(stores)
      const events = lives(["hot_c"], 3)
      const carried = [...events, events[1]!] // offset 3 carries the event of offset 1 again
      yield* appendAll(archive, carried, 0)
      yield* archive.flushAll
      expect(yield* metricsOf(stores, "hot_c")).toEqual(foldOf("hot_c", events))
      expect((yield* archivedEventIds(stores)).sort()).toEqual(events.map((e) => e.eventId).sort())
    }))

  it.scoped("killed after the hot apply and before the upload: the redelivery counts nothing twice and archives everything once", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const events = lives(["hot_d", "hot_e"], 5)
      const first = yield* pipelineOver(stores)
      yield* appendAll(first.archive, events, 1)
      yield* TestClock.adjust("500 millis")
      expect(yield* metricsOf(stores, "hot_d")).toEqual(foldOf("hot_d", events))
      expect(yield* archivedEventIds(stores)).toEqual([])
      yield* first.crash // nothing committed: every record comes again

      const second = yield* pipelineOver(stores)
      const finished: Array<number> = []
      yield* appendAll(second.archive, events, 1, (offset) => finished.push(offset))
      yield* second.archive.flushAll
      expect(finished).toHaveLength(events.length)
      yield* expectExactlyOnce(stores, ["hot_d", "hot_e"], events)
    }))

  it.scoped("killed in the middle of a batch's writes: the redelivered batch adds only what is missing", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const real = Context.get(stores, MetricsStore)
      const events = lives(["hot_f", "hot_g", "hot_h"], 4)
      let applies = 0
      const dying = MetricsStore.of({
        ...real,
        apply: (update) => (++applies <= 4 ? real.apply(update) : Effect.never)
      })
      const first = yield* pipelineOver(Context.add(stores, MetricsStore, dying))
      yield* appendAll(first.archive, events, 2)
      yield* TestClock.adjust("500 millis")
      expect(applies).toBeGreaterThan(4)
      yield* first.crash

      const second = yield* pipelineOver(stores, { maxEvents: 5 }) // batches cut differently this time
      yield* appendAll(second.archive, events, 2)
      yield* second.archive.flushAll
      yield* expectExactlyOnce(stores, ["hot_f", "hot_g", "hot_h"], events)
    }))

  it.scoped("a batch whose writes partly succeeded is never dead-lettered: retried past the policy, it counts once", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const real = Context.get(stores, MetricsStore)
      const events = lives(["half_a", "half_b", "half_c"], 3)
      let applies = 0
      let healthyFrom = Infinity
      // A real store that fails half-way: the first writes of the batch succeed, then every write fails until healed.
      const halfWay = MetricsStore.of({
        ...real,
        apply: (update) =>
          Effect.flatMap(TestClock.currentTimeMillis, (now) =>
            ++applies <= 4 || now >= healthyFrom ? real.apply(update) : Effect.fail(new MetricsStoreError({ operation: "apply", cause: "throttled" })))
      })
      // An archive tick of 30 s: an hour of test time without thousands of wake-ups.
      const { archive } = yield* pipelineOver(Context.add(stores, MetricsStore, halfWay), { archiveTick: "30 seconds" })
      const finished: Array<number> = []
      yield* appendAll(archive, events, 3, (offset) => finished.push(offset))
      healthyFrom = (yield* TestClock.currentTimeMillis) + 40 * 60_000
      // Past the analytics policy (11 attempts, about 25 minutes): still retrying, nothing dead-lettered.
      for (let i = 0; i < 6; i++) yield* TestClock.adjust("5 minutes")
      expect(applies).toBeGreaterThan(4 + 11)
      expect(yield* deadLetters(stores)).toBe(0)
      expect(finished).toEqual([])
      for (let i = 0; i < 4; i++) yield* TestClock.adjust("5 minutes")
      expect(finished).toEqual(events.map((_, i) => i))
      expect(yield* deadLetters(stores)).toBe(0)
      yield* expectExactlyOnce(stores, ["half_a", "half_b", "half_c"], events)
    }))
})
