import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import type { SellerId } from "../../src/domain/Ids.js"
import { isReservedAttribute, toStoreUpdates } from "../../src/services/MetricsStore.js"
import {
  applyDelta,
  asDelta,
  combine,
  deltaItems,
  deltaOf,
  deltasBySeller,
  emptyDelta,
  emptyMetrics,
  fromStoreItems,
  SellerMetrics
} from "../../src/domain/SellerMetrics.js"
import { baseMillis, created, deleted, lowStock, product, updated } from "../support/events.js"

const seller = "seller_1" as SellerId
const at = (minutes: number) => baseMillis + minutes * 60_000 // baseMillis is 2026-11-26T20:00:00.000Z

describe("deltaOf", () => {
  it("given a ProductCreated, then the product is added and counted in its day item, for the day and its hour", () => {
    const delta = deltaOf(created(seller, "p1", at(5), product({ price: { amountMinor: 250, currency: "EUR" }, stock: 4 })))
    expect(delta).toEqual({
      totals: { activeProducts: 1, totalStockUnits: 4, "value#EUR": 1000, "cat#home/lighting": 1, created: 1 },
      "day#2026-11-26": { created: 1, "h20#created": 1 }
    })
  })

  it("given a ProductUpdated of price and stock, then the before state is replaced by the after state and a price change counted", () => {
    const before = product({ price: { amountMinor: 100, currency: "EUR" }, stock: 10 })
    const after = product({ price: { amountMinor: 80, currency: "EUR" }, stock: 7 })
    expect(deltaOf(updated(seller, "p1", at(70), before, after))).toEqual({
      totals: { totalStockUnits: -3, "value#EUR": 560 - 1000, updated: 1, priceChanges: 1 },
      "day#2026-11-26": { updated: 1, priceChanges: 1, "h21#updated": 1, "h21#priceChanges": 1 }
    })
  })

  it("given a change of category and currency, then the product moves between categories and currencies", () => {
    const before = product({ category: "home", price: { amountMinor: 100, currency: "EUR" }, stock: 2 })
    const after = product({ category: "garden", price: { amountMinor: 100, currency: "USD" }, stock: 2 })
    expect(deltaOf(updated(seller, "p1", at(1), before, after)).totals).toEqual({
      "cat#home": -1,
      "cat#garden": 1,
      "value#EUR": -200,
      "value#USD": 200,
      updated: 1,
      priceChanges: 1
    })
  })

  it("given a rename only, then only the update is counted", () => {
    const delta = deltaOf(updated(seller, "p1", at(1), product(), product({ name: "Brass lamp" })))
    expect(delta.totals).toEqual({ updated: 1 })
  })

  it("given a ProductDeleted, then its last known state is subtracted", () => {
    const delta = deltaOf(deleted(seller, "p1", at(60 * 24), product({ stock: 3 })))
    expect(delta).toEqual({
      totals: { activeProducts: -1, totalStockUnits: -3, "value#EUR": -3 * 4999, "cat#home/lighting": -1, deleted: 1 },
      "day#2026-11-27": { deleted: 1, "h20#deleted": 1 }
    })
  })

  it("given a LowStockWarning, then nothing changes", () => {
    expect(deltaOf(lowStock(seller, "p1", at(1)))).toEqual(emptyDelta)
  })
})

describe("combine", () => {
  it("has the empty delta as identity, commutes, and drops what cancels out", () => {
    const a = deltaOf(created(seller, "p1", at(1)))
    const b = deltaOf(deleted(seller, "p1", at(2)))
    expect(combine(a, emptyDelta)).toEqual(a)
    expect(combine(a, b)).toEqual(combine(b, a))
    expect(combine(a, b).totals).toEqual({ created: 1, deleted: 1 })
  })

  it("deltasBySeller keeps sellers apart and leaves out sellers with nothing to change", () => {
    const bySeller = deltasBySeller([created("s1", "p1", at(1)), created("s2", "p1", at(1)), lowStock("s3", "p1", at(1))])
    expect(Object.keys(bySeller).sort()).toEqual(["s1", "s2"])
  })
})

describe("toStoreUpdates", () => {
  it("given a delta, then one update per item (the day and the totals) carrying the offset range, with no reserved attribute names", () => {
    const delta = deltaOf(created(seller, "p1", at(1)))
    const updates = toStoreUpdates(seller, delta, { partition: 3, fromOffset: 10, offset: 19 })
    expect(updates.map((u) => u.item)).toEqual(["day#2026-11-26", "totals"])
    for (const u of updates) {
      expect(u).toMatchObject({ sellerId: seller, partition: 3, fromOffset: 10, offset: 19 })
      expect(Object.keys(u.add).some(isReservedAttribute)).toBe(false)
    }
  })
})

describe("fromStoreItems and applyDelta", () => {
  it("given store items, then the view leaves out zero entries and sorts buckets", () => {
    const metrics = fromStoreItems(seller, [
      { item: "totals", values: { activeProducts: 2, totalStockUnits: 5, "value#EUR": 900, "value#USD": 0, "cat#a": 2, "cat#b": 0, created: 3, deleted: 1 } },
      { item: "hour#2026-11-26T21", values: { created: 1 } },
      { item: "hour#2026-11-26T20", values: { created: 2, deleted: 1 } },
      { item: "hour#2026-11-26T19", values: { created: 0 } },
      { item: "day#2026-11-26", values: { created: 3, deleted: 1 } }
    ])
    expect(metrics).toEqual({
      sellerId: seller,
      activeProducts: 2,
      totalStockUnits: 5,
      inventoryValue: { EUR: "900" },
      byCategory: { a: 2 },
      counts: { created: 3, updated: 0, deleted: 1, priceChanges: 0 },
      hourly: [
        { hour: "2026-11-26T20", created: 2, updated: 0, deleted: 1, priceChanges: 0 },
        { hour: "2026-11-26T21", created: 1, updated: 0, deleted: 0, priceChanges: 0 }
      ],
      daily: [{ day: "2026-11-26", created: 3, updated: 0, deleted: 1, priceChanges: 0 }]
    })
    expect(Schema.decodeUnknownSync(SellerMetrics)(Schema.encodeSync(SellerMetrics)(metrics))).toEqual(metrics)
  })

  it("given day items holding their hours and hour items written before they did, then each hour sums both", () => {
    const metrics = fromStoreItems(seller, [
      { item: "hour#2026-11-26T20", values: { created: 2 } },
      { item: "day#2026-11-26", values: { created: 4, updated: 1, "h20#created": 1, "h21#created": 1, "h21#updated": 1, "h22#deleted": 0 } }
    ])
    expect(metrics.hourly).toEqual([
      { hour: "2026-11-26T20", created: 3, updated: 0, deleted: 0, priceChanges: 0 },
      { hour: "2026-11-26T21", created: 1, updated: 1, deleted: 0, priceChanges: 0 }
    ])
    expect(metrics.daily).toEqual([{ day: "2026-11-26", created: 4, updated: 1, deleted: 0, priceChanges: 0 }])
    expect(fromStoreItems(seller, deltaItems(asDelta(metrics)))).toEqual(metrics)
  })

  it("given a product created then deleted, then applying both deltas leaves only the counts", () => {
    const metrics = [created(seller, "p1", at(1)), deleted(seller, "p1", at(2))]
      .map(deltaOf)
      .reduce(applyDelta, emptyMetrics(seller))
    expect(metrics).toMatchObject({ activeProducts: 0, totalStockUnits: 0, inventoryValue: {}, byCategory: {} })
    expect(metrics.counts).toEqual({ created: 1, updated: 0, deleted: 1, priceChanges: 0 })
  })
})

describe("money totals past 2^53", () => {
  it("are exact, kept in limbs below 10^7 each, and served as decimal strings", () => {
    const max = Number.MAX_SAFE_INTEGER
    const big = product({ price: { amountMinor: max, currency: "EUR" }, stock: 1_000_000_000 })
    const bigger = product({ price: { amountMinor: max, currency: "EUR" }, stock: 999_999_999 })
    const events = [
      created(seller, "p1", at(0), big),
      created(seller, "p2", at(1), big),
      created(seller, "p3", at(2), product({ price: { amountMinor: 1999, currency: "USD" }, stock: 3 })),
      updated(seller, "p2", at(3), big, bigger),
      deleted(seller, "p1", at(4), big)
    ]
    const delta = events.map(deltaOf).reduce(combine, emptyDelta)
    const limbs = Object.entries(delta["totals"]!).filter(([name]) => name.startsWith("value#"))
    expect(limbs.length).toBeGreaterThan(2)
    for (const [, value] of limbs) expect(Math.abs(value)).toBeLessThan(10_000_000)
    const metrics = fromStoreItems(seller, Object.entries(delta).map(([item, values]) => ({ item, values })))
    expect(metrics.inventoryValue).toEqual({ EUR: String(BigInt(max) * 999_999_999n), USD: String(1999 * 3) })
    // 2^53-1 × 999,999,999 ≈ 9 × 10^24: far past what a JSON number holds exactly, and it still encodes.
    expect(Schema.encodeSync(SellerMetrics)(metrics).inventoryValue["EUR"]).toBe("9007199245733791745259009")
    expect(applyDelta(emptyMetrics(seller), delta)).toEqual(metrics)
  })
})
