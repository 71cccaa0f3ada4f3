import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, Cause, Duration, Effect, Exit, type Layer, Option, TestClock } from "effect"
import { defaultClaimRetention, MetricsStore, type MetricsUpdate } from "../../src/services/MetricsStore.js"
import { unique } from "../support/unique.js"

const update = (
  sellerId: string,
  fields: Partial<MetricsUpdate> & Pick<MetricsUpdate, "fromOffset" | "offset" | "add">
): MetricsUpdate => ({ sellerId, item: "totals", partition: 0, ...fields })

export const metricsStoreContract = <E>(name: string, layer: Layer.Layer<MetricsStore, E>) =>
  describe(name, () => {
    it.layer(layer)((it) => {
      it.effect("apply adds the values to the item and sets the partition's watermark", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          const add = { activeProducts: 2, totalStockUnits: 30, "value#EUR": 12_345, "cat#home/lighting": 1 }
          expect(yield* store.apply(update(sellerId, { fromOffset: 0, offset: 4, add }))).toBe("applied")
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some(add))
          expect(yield* store.watermark(sellerId, "totals", 0)).toEqual(Option.some(4))
          expect(yield* store.apply(update(sellerId, { fromOffset: 5, offset: 9, add: { activeProducts: 1, "value#USD": 99 } })))
            .toBe("applied")
          expect(yield* store.get(sellerId, "totals")).toEqual(
            Option.some({ ...add, activeProducts: 3, "value#USD": 99 })
          )
        }))

      it.effect("a replay of an applied update is a duplicate and changes nothing", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          const u = update(sellerId, { fromOffset: 3, offset: 10, add: { created: 2 } })
          expect(yield* store.apply(u)).toBe("applied")
          expect(yield* store.apply(u)).toBe("duplicate")
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some({ created: 2 }))
          expect(yield* store.watermark(sellerId, "totals", 0)).toEqual(Option.some(10))
        }))

      it.effect("overlapping ranges: wholly applied is a duplicate, partly applied an overlap, later applies", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.apply(update(sellerId, { fromOffset: 1, offset: 10, add: { created: 5 } }))).toBe("applied")
          expect(yield* store.apply(update(sellerId, { fromOffset: 5, offset: 8, add: { created: 1 } }))).toBe("duplicate")
          expect(yield* store.apply(update(sellerId, { fromOffset: 8, offset: 8, add: { created: 1 } }))).toBe("duplicate")
          expect(yield* store.apply(update(sellerId, { fromOffset: 9, offset: 12, add: { created: 3 } }))).toBe("overlap")
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some({ created: 5 }))
          expect(yield* store.watermark(sellerId, "totals", 0)).toEqual(Option.some(10))
          expect(yield* store.apply(update(sellerId, { fromOffset: 11, offset: 12, add: { created: 2 } }))).toBe("applied")
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some({ created: 7 }))
          expect(yield* store.watermark(sellerId, "totals", 0)).toEqual(Option.some(12))
        }))

      it.effect("partitions have independent watermarks", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.apply(update(sellerId, { partition: 0, fromOffset: 1, offset: 100, add: { stock: 10 } })))
            .toBe("applied")
          expect(yield* store.apply(update(sellerId, { partition: 7, fromOffset: 1, offset: 5, add: { stock: 1 } })))
            .toBe("applied")
          expect(yield* store.apply(update(sellerId, { partition: 7, fromOffset: 1, offset: 5, add: { stock: 1 } })))
            .toBe("duplicate")
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some({ stock: 11 }))
          expect(yield* store.watermark(sellerId, "totals", 0)).toEqual(Option.some(100))
          expect(yield* store.watermark(sellerId, "totals", 7)).toEqual(Option.some(5))
          expect(yield* store.watermark(sellerId, "totals", 3)).toEqual(Option.none())
        }))

      it.effect("items have independent watermarks", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          const u = { fromOffset: 1, offset: 5, add: { created: 1 } }
          expect(yield* store.apply(update(sellerId, { ...u, item: "day#2026-11-26" }))).toBe("applied")
          expect(yield* store.apply(update(sellerId, { ...u, item: "hour#2026-11-26T20" }))).toBe("applied")
          expect(yield* store.apply(update(unique("seller"), { ...u, item: "day#2026-11-26" }))).toBe("applied")
        }))

      it.effect("negative values subtract, down to zero and below", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          yield* store.apply(update(sellerId, { fromOffset: 0, offset: 0, add: { activeProducts: 1, "value#EUR": 500 } }))
          yield* store.apply(update(sellerId, { fromOffset: 1, offset: 1, add: { activeProducts: -1, "value#EUR": -700 } }))
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some({ activeProducts: 0, "value#EUR": -200 }))
        }))

      it.effect("concurrent deliveries of one update apply it once", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          const results = yield* Effect.all(
            Arr.replicate(store.apply(update(sellerId, { fromOffset: 0, offset: 3, add: { created: 4 } })), 8),
            { concurrency: "unbounded" }
          )
          expect(results.filter((r) => r === "applied")).toHaveLength(1)
          expect(results.filter((r) => r === "duplicate")).toHaveLength(7)
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.some({ created: 4 }))
        }))

      it.effect("get and watermark of a missing item are none", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          expect(yield* store.get(unique("seller"), "totals")).toEqual(Option.none())
          expect(yield* store.watermark(unique("seller"), "totals", 0)).toEqual(Option.none())
        }))

      it.effect("metric names reserved for keys and watermarks are refused as a defect", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          for (const name of ["wm_p0", "sellerId", "item"]) {
            const exit = yield* Effect.exit(store.apply(update(sellerId, { fromOffset: 0, offset: 0, add: { [name]: 1 } })))
            expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
          }
          expect(yield* store.get(sellerId, "totals")).toEqual(Option.none())
        }))

      it.effect("query returns a seller's items by key prefix, within an inclusive range, in key order", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          const items = [
            "hour#2026-11-26T21",
            "day#2026-11-26",
            "hour#2026-11-26T09",
            "hour#2026-11-27T00",
            "hour#2026-11-26T20",
            "totals"
          ]
          yield* Effect.forEach(items, (item, i) => store.apply(update(sellerId, { item, fromOffset: i, offset: i, add: { n: i } })))
          yield* store.apply(update(unique("seller"), { item: "hour#2026-11-26T20", fromOffset: 0, offset: 0, add: { n: 9 } }))
          expect(yield* store.query(sellerId, "hour#")).toEqual([
            { item: "hour#2026-11-26T09", values: { n: 2 }, watermarks: { 0: 2 } },
            { item: "hour#2026-11-26T20", values: { n: 4 }, watermarks: { 0: 4 } },
            { item: "hour#2026-11-26T21", values: { n: 0 }, watermarks: { 0: 0 } },
            { item: "hour#2026-11-27T00", values: { n: 3 }, watermarks: { 0: 3 } }
          ])
          const range = { from: "2026-11-26T20", to: "2026-11-27T00" }
          expect((yield* store.query(sellerId, "hour#", range)).map((i) => i.item)).toEqual([
            "hour#2026-11-26T20",
            "hour#2026-11-26T21",
            "hour#2026-11-27T00"
          ])
          expect((yield* store.query(sellerId, "day#")).map((i) => i.item)).toEqual(["day#2026-11-26"])
          expect(yield* store.query(sellerId, "month#")).toEqual([])
          expect((yield* store.query(sellerId, "")).map((i) => i.item)).toEqual([...items].sort())
        }))

      it.effect("query answers each item's watermarks, by partition", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          yield* store.apply(update(sellerId, { partition: 3, fromOffset: 0, offset: 7, add: { created: 1 } }))
          yield* store.apply(update(sellerId, { partition: 11, fromOffset: 40, offset: 41, add: { created: 1 } }))
          expect(yield* store.query(sellerId, "")).toEqual([{ item: "totals", values: { created: 2 }, watermarks: { 3: 7, 11: 41 } }])
        }))

      it.effect("putPending replaces a seller's record of a partition; totalsAndPending answers them all, apart from the metric items", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const [a, b] = [unique("seller"), unique("seller")]
          const window = (fromOffset: number, created: number) => ({ fromOffset, delta: { totals: { created, "value#EUR#0": 5 }, "day#2026-12-02": { created, "h10#created": created } } })
          yield* store.apply(update(a, { partition: 1, fromOffset: 0, offset: 9, add: { created: 1 } }))
          yield* store.putPending([
            { sellerId: a, partition: 1, windows: [window(10, 2)] },
            { sellerId: a, partition: 4, windows: [window(3, 1), window(8, 5)] },
            { sellerId: b, partition: 1, windows: [] }
          ])
          yield* store.putPending([{ sellerId: a, partition: 1, windows: [window(10, 3), window(20, 1)] }])
          const totals = [{ item: "totals", values: { created: 1 }, watermarks: { 1: 9 } }]
          expect(yield* store.totalsAndPending(a)).toEqual({
            totals,
            pending: [
              { sellerId: a, partition: 1, windows: [window(10, 3), window(20, 1)] },
              { sellerId: a, partition: 4, windows: [window(3, 1), window(8, 5)] }
            ]
          })
          expect(yield* store.totalsAndPending(b)).toEqual({ totals: [], pending: [{ sellerId: b, partition: 1, windows: [] }] })
          expect(yield* store.totalsAndPending(unique("seller"))).toEqual({ totals: [], pending: [] })
          expect(yield* store.query(a, "")).toEqual(totals)
          expect(yield* store.query(a, "totals")).toEqual(totals)
          expect(yield* store.query(b, "")).toEqual([])
        }))

      it.effect("putPending: more records than a batch request takes (25)", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellers = Arr.makeBy(60, () => unique("seller"))
          yield* store.putPending(sellers.map((sellerId, i) => ({ sellerId, partition: 2, windows: [{ fromOffset: i, delta: { totals: { created: i + 1 } } }] })))
          const read = yield* Effect.forEach(sellers, (sellerId) => Effect.map(store.totalsAndPending(sellerId), ({ pending }) => pending))
          expect(read).toEqual(sellers.map((sellerId, i) => [{ sellerId, partition: 2, windows: [{ fromOffset: i, delta: { totals: { created: i + 1 } } }] }]))
        }))

      it.effect("claim: an event belongs to the first record that claims it; that record may claim it again", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(true)
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(true)
          expect(yield* store.claim(sellerId, "e1", "3:250")).toBe(false)
          expect(yield* store.claim(sellerId, "e2", "3:250")).toBe(true)
          expect(yield* store.claim(unique("seller"), "e1", "5:7")).toBe(true)
          // claims are not metrics
          expect(yield* store.query(sellerId, "")).toEqual([])
          // only the holder can give a claim up; then another record may claim the event
          yield* store.release(sellerId, "e1", "3:250")
          expect(yield* store.claim(sellerId, "e1", "3:250")).toBe(false)
          yield* store.release(sellerId, "e1", "3:100")
          expect(yield* store.claim(sellerId, "e1", "3:250")).toBe(true)
        }))

      it.effect("claim: a claim lapses after the retention (30 days by default); a redelivery renews it", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(true)
          yield* TestClock.adjust(Duration.subtract(defaultClaimRetention, Duration.seconds(1)))
          expect(yield* store.claim(sellerId, "e1", "4:7")).toBe(false)
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(true)
          yield* TestClock.adjust(Duration.seconds(1))
          expect(yield* store.claim(sellerId, "e1", "4:7")).toBe(false)
          yield* TestClock.adjust(defaultClaimRetention)
          expect(yield* store.claim(sellerId, "e1", "4:7")).toBe(true)
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(false)
          expect(yield* store.query(sellerId, "")).toEqual([])
        }))

      it.effect("claimMany: new events are claimed; a redelivery by the same record is true, another record false", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const [a, b] = [unique("seller"), unique("seller")]
          expect(yield* store.claimMany([])).toEqual([])
          const first = [
            { sellerId: a, eventId: "e1", source: "3:100" },
            { sellerId: a, eventId: "e2", source: "3:101" },
            { sellerId: b, eventId: "e1", source: "3:102" }
          ]
          expect(yield* store.claimMany(first)).toEqual([true, true, true])
          expect(yield* store.claimMany(first)).toEqual([true, true, true])
          expect(yield* store.claimMany([
            { sellerId: a, eventId: "e1", source: "3:250" },
            { sellerId: a, eventId: "e3", source: "3:251" },
            { sellerId: b, eventId: "e1", source: "3:102" }
          ])).toEqual([false, true, true])
          // claims are not metrics
          expect(yield* store.query(a, "")).toEqual([])
        }))

      it.effect("claimMany: two claims of one event in one call, the first wins", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.claimMany([
            { sellerId, eventId: "e1", source: "3:100" },
            { sellerId, eventId: "e2", source: "3:101" },
            { sellerId, eventId: "e1", source: "3:102" },
            { sellerId, eventId: "e1", source: "3:100" }
          ])).toEqual([true, true, false, true])
          expect(yield* store.claim(sellerId, "e1", "3:102")).toBe(false)
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(true)
        }))

      it.effect("claimMany agrees with claim and release", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(true)
          expect(yield* store.claimMany([
            { sellerId, eventId: "e1", source: "3:100" },
            { sellerId, eventId: "e1", source: "3:250" },
            { sellerId, eventId: "e2", source: "3:251" }
          ])).toEqual([true, false, true])
          expect(yield* store.claim(sellerId, "e2", "3:999")).toBe(false)
          expect(yield* store.claim(sellerId, "e2", "3:251")).toBe(true)
          // a claim made by claimMany is given up by release, and may then be claimed by another record
          yield* store.release(sellerId, "e2", "3:999")
          expect(yield* store.claimMany([{ sellerId, eventId: "e2", source: "3:999" }])).toEqual([false])
          yield* store.release(sellerId, "e2", "3:251")
          expect(yield* store.claimMany([{ sellerId, eventId: "e2", source: "3:999" }])).toEqual([true])
          expect(yield* store.claim(sellerId, "e2", "3:251")).toBe(false)
        }))

      it.effect("claimMany: a released claim goes to one record only, the first of those claiming it", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          expect(yield* store.claimMany([{ sellerId, eventId: "e1", source: "3:100" }])).toEqual([true])
          yield* store.release(sellerId, "e1", "3:100")
          // Two records of the released event (the replay, and another copy): one wins, in the call's order.
          expect(yield* store.claimMany([
            { sellerId, eventId: "e1", source: "3:250" },
            { sellerId, eventId: "e1", source: "3:300" }
          ])).toEqual([true, false])
          expect(yield* store.claimMany([{ sellerId, eventId: "e1", source: "3:300" }])).toEqual([false])
          expect(yield* store.claim(sellerId, "e1", "3:300")).toBe(false)
          expect(yield* store.claimMany([{ sellerId, eventId: "e1", source: "3:250" }])).toEqual([true])
          // A released claim stays out of the metric items.
          expect(yield* store.query(sellerId, "")).toEqual([])
        }))

      it.effect("claimMany: a lapsed claim is claimed anew; a redelivery does not renew a claim", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellerId = unique("seller")
          const held = { sellerId, eventId: "e1", source: "3:100" }
          const other = { sellerId, eventId: "e1", source: "4:7" }
          expect(yield* store.claimMany([held])).toEqual([true])
          yield* TestClock.adjust(Duration.subtract(defaultClaimRetention, Duration.seconds(1)))
          expect(yield* store.claimMany([other, held])).toEqual([false, true])
          yield* TestClock.adjust(Duration.seconds(1))
          // lapsed at the retention after it was first claimed: the redelivery above left it as it was
          expect(yield* store.claimMany([other, held])).toEqual([true, false])
          expect(yield* store.claim(sellerId, "e1", "3:100")).toBe(false)
          expect(yield* store.query(sellerId, "")).toEqual([])
        }))

      it.effect("claimMany: more claims than a batch request takes (100 read, 25 written)", () =>
        Effect.gen(function*() {
          const store = yield* MetricsStore
          const sellers = [unique("seller"), unique("seller"), unique("seller")]
          const claims = Arr.makeBy(250, (i) => ({ sellerId: sellers[i % 3]!, eventId: `e${i}`, source: `1:${i}` }))
          // every seventh event claimed before by another record
          for (let i = 0; i < claims.length; i += 7) expect(yield* store.claim(claims[i]!.sellerId, claims[i]!.eventId, "2:0")).toBe(true)
          const expected = claims.map((_, i) => i % 7 !== 0)
          expect(yield* store.claimMany(claims)).toEqual(expected)
          expect(yield* store.claimMany(claims)).toEqual(expected)
          const repeats = claims.map((c) => ({ ...c, source: "3:0" }))
          expect(yield* store.claimMany([...claims, ...repeats])).toEqual([...expected, ...claims.map(() => false)])
          for (const [i, c] of claims.entries()) {
            expect(yield* store.claim(c.sellerId, c.eventId, i % 7 === 0 ? "2:0" : c.source)).toBe(true)
          }
        }))
    })
  })
