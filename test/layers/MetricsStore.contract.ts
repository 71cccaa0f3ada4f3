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
            { item: "hour#2026-11-26T09", values: { n: 2 } },
            { item: "hour#2026-11-26T20", values: { n: 4 } },
            { item: "hour#2026-11-26T21", values: { n: 0 } },
            { item: "hour#2026-11-27T00", values: { n: 3 } }
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
    })
  })
