import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Deferred, Duration, Effect, Exit, Layer, TestClock } from "effect"
import type { SellerId } from "../../src/domain/Ids.js"
import { withPending } from "../../src/domain/PendingMetrics.js"
import { combineAll, deltaOf, type LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { deltaItems, fromStoreItems } from "../../src/domain/SellerMetrics.js"
import { MetricsStore, MetricsStoreError } from "../../src/services/MetricsStore.js"
import { sellerMetrics } from "../../src/services/MetricsView.js"
import { HotSettings } from "../../src/services/analytics/Settings.js"
import { baseMillis, created, product, updated } from "../support/events.js"
import { pipelineOver, pipelineSettings, recordOf, Stores, throttledUntilHealed } from "./pipelineSupport.js"

/**
 * The pending view: an event whose micro-batch is not applied yet shows in its seller's metrics (as
 * `GET /sellers/{id}/metrics` reads them) within `HOT_FRESH_AFTER`, however long the batch takes, and
 * never counts twice: not when its batch lands, not when it is given up on, not after a crash.
 */

const settings = (archiveTick = "1 second") =>
  pipelineSettings({ ARCHIVE_TICK: archiveTick, HOT_MAX_EVENTS: "500", HOT_MAX_WAIT: "500 millis", HOT_FRESH_AFTER: "1 second" })

/** Sellers' product lives, interleaved: created, then price and stock changes; `from` numbers the first update. */
const lives = (sellers: ReadonlyArray<string>, n: number, from = 0): Array<LifecycleEvent> => {
  const events: Array<LifecycleEvent> = []
  const states = sellers.map(() => product())
  for (let i = from; i < from + n; i++) {
    sellers.forEach((seller, s) => {
      if (i === 0) return events.push(created(seller, "lamp", baseMillis) as LifecycleEvent)
      const next = product({ stock: states[s]!.stock - i, price: { amountMinor: states[s]!.price.amountMinor + i, currency: "EUR" } })
      events.push(updated(seller, "lamp", baseMillis + i, states[s]!, next) as LifecycleEvent)
      states[s] = next
    })
  }
  return events
}

const foldOf = (seller: string, events: ReadonlyArray<LifecycleEvent>) =>
  fromStoreItems(seller as SellerId, deltaItems(combineAll(events.filter((e) => e.data.sellerId === seller).map(deltaOf))))

/** What a reader sees: the store's items and the pending records. */
const viewOf = (stores: Context.Context<any>, seller: string) => sellerMetrics(Context.get(stores, MetricsStore), seller as SellerId)
/** What the applied batches hold. */
const foldedOf = (stores: Context.Context<any>, seller: string) =>
  Effect.map(Context.get(stores, MetricsStore).query(seller, ""), (items) => fromStoreItems(seller as SellerId, items))

/** A real store whose metric writes wait until `gate` opens (the gate of the moment, when given as a function: none, no wait). */
const gated = (store: MetricsStore["Type"], gate: Deferred.Deferred<void> | (() => Deferred.Deferred<void> | undefined)) =>
  MetricsStore.of({
    ...store,
    apply: (update) =>
      Effect.suspend(() => {
        const now = typeof gate === "function" ? gate() : gate
        return Effect.zipRight(now === undefined ? Effect.void : Deferred.await(now), store.apply(update))
      })
  })

type Archive = Effect.Effect.Success<ReturnType<typeof pipelineOver>>["archive"]

const appendAll = (archive: Archive, events: ReadonlyArray<LifecycleEvent>, partition: number, from = 0) =>
  Effect.forEach(events, (event, i) => archive.append(recordOf(event, partition, from + i), event, () => {}), { discard: true })

describe("pending metrics", () => {
  it.scoped("events of batches still being applied show within HOT_FRESH_AFTER, and count once when they land", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const gate = yield* Deferred.make<void>()
      const { archive } = yield* pipelineOver(Context.add(stores, MetricsStore, gated(Context.get(stores, MetricsStore), gate)), settings())
      const sellers = ["pend_a", "pend_b"]
      const first = lives(sellers, 3)
      const second = lives(["pend_b", "pend_c"], 2, 3)
      const all = [...first, ...second]
      yield* appendAll(archive, first, 0)
      yield* TestClock.adjust("500 millis") // the first batch rolls; its writes wait
      yield* appendAll(archive, second, 0, first.length)
      yield* TestClock.adjust("500 millis") // the first batch's events are a second old
      expect(yield* viewOf(stores, "pend_a")).toEqual(foldOf("pend_a", first))
      for (const seller of sellers) expect(yield* foldedOf(stores, seller)).toEqual(foldOf(seller, []))
      yield* TestClock.adjust("500 millis") // the second batch's too, rolled and queued behind the first
      for (const seller of [...sellers, "pend_c"]) expect(yield* viewOf(stores, seller)).toEqual(foldOf(seller, all))
      yield* Deferred.succeed(gate, undefined)
      yield* archive.flushAll
      for (const seller of [...sellers, "pend_c"]) {
        expect(yield* foldedOf(stores, seller)).toEqual(foldOf(seller, all))
        expect(yield* viewOf(stores, seller)).toEqual(foldOf(seller, all))
      }
    }))

  it.scoped("an event published twice shows twice only until the batch of its second record is applied", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      let gate: Deferred.Deferred<void> | undefined
      const held = gated(Context.get(stores, MetricsStore), () => gate)
      const { archive } = yield* pipelineOver(Context.add(stores, MetricsStore, held), settings())
      const [event] = lives(["pend_dup"], 1)
      yield* appendAll(archive, [event!], 5)
      yield* TestClock.adjust("1 second")
      expect(yield* viewOf(stores, "pend_dup")).toEqual(foldOf("pend_dup", [event!]))
      expect(yield* foldedOf(stores, "pend_dup"), "the first record's batch applied").toEqual(foldOf("pend_dup", [event!]))
      gate = yield* Deferred.make<void>()
      yield* appendAll(archive, [event!], 5, 1) // the same event again, alone in its batch: a duplicate
      yield* TestClock.adjust("2 seconds")
      expect(yield* viewOf(stores, "pend_dup")).toEqual(foldOf("pend_dup", [event!, event!]))
      yield* Deferred.succeed(gate, undefined)
      yield* archive.flushAll
      expect(yield* viewOf(stores, "pend_dup")).toEqual(foldOf("pend_dup", [event!]))
      expect(yield* foldedOf(stores, "pend_dup")).toEqual(foldOf("pend_dup", [event!]))
    }))

  it.scoped("records the store failed to write are written again, backing off while it fails", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const gate = yield* Deferred.make<void>()
      const store = gated(Context.get(stores, MetricsStore), gate)
      let failures = 3
      const flaky = MetricsStore.of({
        ...store,
        putPending: (records) =>
          failures-- > 0 ? Effect.fail(new MetricsStoreError({ operation: "putPending", cause: "throttled" })) : store.putPending(records)
      })
      const { archive } = yield* pipelineOver(Context.add(stores, MetricsStore, flaky), settings())
      const events = lives(["pend_f"], 3)
      yield* appendAll(archive, events, 6)
      yield* TestClock.adjust("1 second") // the first write fails
      expect(yield* viewOf(stores, "pend_f")).toEqual(foldOf("pend_f", []))
      yield* TestClock.adjust("6 seconds") // two more fail, 1 s and 2 s later (backing off)
      expect(failures).toBe(0)
      expect(yield* viewOf(stores, "pend_f")).toEqual(foldOf("pend_f", []))
      yield* TestClock.adjust("4 seconds") // the fourth, 4 s later, is written
      expect(failures).toBe(-1)
      expect(yield* viewOf(stores, "pend_f")).toEqual(foldOf("pend_f", events))
    }))

  it.scoped("a bounded read adds the pending days within its bounds, and all of the totals", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const gate = yield* Deferred.make<void>()
      const { archive } = yield* pipelineOver(Context.add(stores, MetricsStore, gated(Context.get(stores, MetricsStore), gate)), settings())
      const day = 24 * 3_600_000
      const events = [created("pend_g", "lamp"), created("pend_g", "desk", baseMillis + 2 * day)] as Array<LifecycleEvent>
      yield* appendAll(archive, events, 7)
      yield* TestClock.adjust("1 second")
      const all = foldOf("pend_g", events)
      const first = all.daily[0]!.day
      const bounded = yield* sellerMetrics(Context.get(stores, MetricsStore), "pend_g" as SellerId, { from: first, to: first })
      expect(all.daily).toHaveLength(2)
      expect(bounded).toEqual({ ...all, daily: [all.daily[0]], hourly: all.hourly.filter(({ hour }) => hour.startsWith(first)) })
    }))

  it.scoped("a batch given up on leaves its sellers' pending records", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const throttled = throttledUntilHealed(Context.get(stores, MetricsStore))
      const { archive } = yield* pipelineOver(Context.add(stores, MetricsStore, throttled.store), settings("30 seconds"))
      const events = lives(["pend_c"], 3)
      yield* appendAll(archive, events, 1)
      yield* TestClock.adjust("1 second")
      expect(yield* viewOf(stores, "pend_c")).toEqual(foldOf("pend_c", events))
      throttled.healAt((yield* TestClock.currentTimeMillis) + 40 * 60_000)
      // Past the analytics policy (11 attempts, about 25 minutes): dead-lettered, for a replay to count.
      for (let i = 0; i < 7; i++) yield* TestClock.adjust("5 minutes")
      expect(yield* viewOf(stores, "pend_c")).toEqual(foldOf("pend_c", []))
      const later = lives(["pend_c"], 1, 3)
      yield* appendAll(archive, later, 1, events.length)
      yield* TestClock.adjust("15 minutes")
      yield* archive.flushAll
      expect(yield* viewOf(stores, "pend_c")).toEqual(foldOf("pend_c", later))
      expect(yield* foldedOf(stores, "pend_c")).toEqual(foldOf("pend_c", later))
    }))

  it.scoped("killed with batches pending: the restart's view counts nothing twice", () =>
    Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const sellers = ["pend_d", "pend_e"]
      const events = lives(sellers, 6)
      const never = yield* Deferred.make<void>()
      const first = yield* pipelineOver(Context.add(stores, MetricsStore, gated(Context.get(stores, MetricsStore), never)), settings())
      yield* appendAll(first.archive, events.slice(0, 8), 2)
      yield* TestClock.adjust("1 second")
      yield* appendAll(first.archive, events.slice(8), 2, 8)
      yield* TestClock.adjust("1 second")
      for (const seller of sellers) expect(yield* viewOf(stores, seller)).toEqual(foldOf(seller, events))
      yield* first.close // killed: its writes never landed, nothing committed

      const second = yield* pipelineOver(stores, settings())
      yield* appendAll(second.archive, events, 2) // redelivered from the last commit, cut into batches differently
      for (const seller of sellers) expect(yield* viewOf(stores, seller)).toEqual(foldOf(seller, events))
      yield* TestClock.adjust("500 millis")
      for (const seller of sellers) expect(yield* viewOf(stores, seller)).toEqual(foldOf(seller, events))
      yield* second.archive.flushAll
      for (const seller of sellers) {
        expect(yield* viewOf(stores, seller)).toEqual(foldOf(seller, events))
        expect(yield* foldedOf(stores, seller)).toEqual(foldOf(seller, events))
      }
    }))
})

describe("withPending", () => {
  const window = (fromOffset: number, created: number) => ({ fromOffset, delta: { totals: { created }, "day#2026-12-01": { created }, "day#2026-12-02": { created } } })
  const items = [
    { item: "day#2026-12-01", values: { created: 10 }, watermarks: { 4: 99 } },
    { item: "totals", values: { created: 10, activeProducts: 3 }, watermarks: { 3: 49, 4: 100 } }
  ]

  it("adds a window's values to an item whose watermark of the window's partition is before the window", () => {
    const pending = [{ sellerId: "s", partition: 3, windows: [window(50, 1), window(60, 2)] }]
    expect(withPending(items, pending, () => true)).toEqual([
      { item: "day#2026-12-01", values: { created: 13 } },
      { item: "day#2026-12-02", values: { created: 3 } },
      { item: "totals", values: { created: 13, activeProducts: 3 } }
    ])
  })

  it("leaves out what an item holds already: a watermark at or past the window's first offset", () => {
    const pending = [{ sellerId: "s", partition: 4, windows: [window(99, 1), window(100, 2), window(101, 4)] }]
    expect(withPending(items, pending, () => true)).toEqual([
      { item: "day#2026-12-01", values: { created: 16 } },
      { item: "day#2026-12-02", values: { created: 7 } },
      { item: "totals", values: { created: 14, activeProducts: 3 } }
    ])
  })

  it("adds only the items asked for", () => {
    const pending = [{ sellerId: "s", partition: 3, windows: [window(50, 1)] }]
    expect(withPending(items, pending, (item) => item !== "day#2026-12-02")).toEqual([
      { item: "day#2026-12-01", values: { created: 11 } },
      { item: "totals", values: { created: 11, activeProducts: 3 } }
    ])
  })
})

describe("HOT_FRESH_AFTER", () => {
  const freshAfter = (value: string | undefined) =>
    Effect.runSyncExit(Effect.map(HotSettings, (s) => Duration.toMillis(s.freshAfter)).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(value === undefined ? [] : [["HOT_FRESH_AFTER", value]])))
    ))

  it("is 250 ms by default, and any positive finite duration", () => {
    expect(freshAfter(undefined)).toEqual(Exit.succeed(250))
    expect(freshAfter("2 seconds")).toEqual(Exit.succeed(2000))
  })

  it.each(["0 millis", "Infinity", "soon"])("refuses %s with a reason", (value) => {
    const exit = freshAfter(value)
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("HOT_FRESH_AFTER")
  })
})
