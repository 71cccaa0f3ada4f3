import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import type { SellerId } from "../../src/domain/Ids.js"
import type { ProductState } from "../../src/domain/Product.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import {
  applyDelta,
  combineAll,
  type Counts,
  dayOf,
  deltaOf,
  deltasBySeller,
  emptyMetrics,
  fromStoreItems,
  hourOf,
  type SellerMetrics
} from "../../src/domain/SellerMetrics.js"
import * as MetricsStoreMemory from "../../src/layers/MetricsStoreMemory.js"
import { MetricsStore, toStoreUpdates } from "../../src/services/MetricsStore.js"
import { batched, lifecycleEvents } from "../support/lifecycles.js"

/** An independent model: replay the products' states, then measure the final ones. */
const reference = (events: ReadonlyArray<ProductEvent>): Record<string, SellerMetrics> => {
  type Seller = { products: Map<string, ProductState>; events: Array<ProductEvent> }
  const sellers = new Map<string, Seller>()
  for (const e of events) {
    const s: Seller = sellers.get(e.data.sellerId) ?? { products: new Map(), events: [] }
    sellers.set(e.data.sellerId, s)
    s.events.push(e)
    if (e.eventType === "ProductCreated" || e.eventType === "ProductUpdated") s.products.set(e.data.productId, e.data.product)
    if (e.eventType === "ProductDeleted") s.products.delete(e.data.productId)
  }
  const result: Record<string, SellerMetrics> = {}
  for (const [sellerId, { events: own, products }] of sellers) {
    const inventoryValue: Record<string, bigint> = {}
    const byCategory: Record<string, number> = {}
    let totalStockUnits = 0
    for (const p of products.values()) {
      totalStockUnits += p.stock
      byCategory[p.category] = (byCategory[p.category] ?? 0) + 1
      inventoryValue[p.price.currency] = (inventoryValue[p.price.currency] ?? 0n) + BigInt(p.price.amountMinor) * BigInt(p.stock)
    }
    const zero = (): Counts => ({ created: 0, updated: 0, deleted: 0, priceChanges: 0 })
    const counts = zero() as { -readonly [K in keyof Counts]: number }
    const hours = new Map<string, typeof counts>()
    const days = new Map<string, typeof counts>()
    for (const e of own) {
      const hour = hours.get(hourOf(e.timestamp)) ?? zero() as typeof counts
      const day = days.get(dayOf(e.timestamp)) ?? zero() as typeof counts
      hours.set(hourOf(e.timestamp), hour)
      days.set(dayOf(e.timestamp), day)
      const name = e.eventType === "ProductCreated" ? "created" : e.eventType === "ProductUpdated" ? "updated" : "deleted"
      for (const c of [counts, hour, day]) {
        c[name]++
        if (e.eventType === "ProductUpdated" && e.data.changes.price !== undefined) c.priceChanges++
      }
    }
    result[sellerId] = {
      sellerId: sellerId as SellerId,
      activeProducts: products.size,
      totalStockUnits,
      inventoryValue: Object.fromEntries(Object.entries(inventoryValue).filter(([, v]) => v !== 0n).map(([c, v]) => [c, String(v)])),
      byCategory,
      counts,
      hourly: [...hours].sort(([a], [b]) => a.localeCompare(b)).map(([hour, c]) => ({ hour, ...c })),
      daily: [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, c]) => ({ day, ...c }))
    }
  }
  return result
}

/** Applies each batch's per-seller deltas, batch after batch. */
const foldBatches = (batches: ReadonlyArray<ReadonlyArray<ProductEvent>>): Record<string, SellerMetrics> => {
  const metrics: Record<string, SellerMetrics> = {}
  for (const batch of batches) {
    for (const [sellerId, delta] of Object.entries(deltasBySeller(batch))) {
      metrics[sellerId] = applyDelta(metrics[sellerId] ?? emptyMetrics(sellerId as SellerId), delta)
    }
  }
  return metrics
}

const fromScratch = (events: ReadonlyArray<ProductEvent>): Record<string, SellerMetrics> => {
  const bySeller = new Map<string, Array<ProductEvent>>()
  for (const e of events) bySeller.set(e.data.sellerId, [...(bySeller.get(e.data.sellerId) ?? []), e])
  return Object.fromEntries(
    [...bySeller].map(([sellerId, own]) => [sellerId, applyDelta(emptyMetrics(sellerId as SellerId), combineAll(own.map(deltaOf)))])
  )
}

const withBatches = lifecycleEvents.chain((events) => fc.tuple(fc.constant(events), batched(events)))

describe("metrics of consistent product lives", () => {
  it("a from-scratch fold equals the independent model", () => {
    fc.assert(fc.property(lifecycleEvents, (events) => {
      expect(fromScratch(events)).toEqual(reference(events))
    }), { numRuns: 200 })
  })

  it("applying deltas batch by batch, in any batch split, equals the from-scratch fold", () => {
    fc.assert(fc.property(withBatches, ([events, batches]) => {
      expect(batches.flat()).toEqual(events)
      expect(foldBatches(batches)).toEqual(fromScratch(events))
    }), { numRuns: 200 })
  })

  it("the batches applied in a random order give the same metrics (combine commutes)", () => {
    const shuffled = withBatches.chain(([events, batches]) =>
      fc.tuple(fc.constant(events), fc.shuffledSubarray([...batches], { minLength: batches.length, maxLength: batches.length }))
    )
    fc.assert(fc.property(shuffled, ([events, batches]) => {
      expect(foldBatches(batches)).toEqual(fromScratch(events))
    }), { numRuns: 200 })
  })

  it("batches written to the store as offset-ranged updates read back as the from-scratch fold", async () => {
    await fc.assert(fc.asyncProperty(withBatches, ([events, batches]) =>
      Effect.gen(function*() {
        const store = yield* MetricsStore
        let offset = 0
        for (const batch of batches) {
          const range = { partition: 0, fromOffset: offset, offset: offset + batch.length - 1 }
          offset += batch.length
          for (const [sellerId, delta] of Object.entries(deltasBySeller(batch))) {
            for (const update of toStoreUpdates(sellerId, delta, range)) {
              expect(yield* store.apply(update)).toBe("applied")
            }
          }
        }
        const expected = fromScratch(events)
        for (const sellerId of Object.keys(expected)) {
          const items = yield* store.query(sellerId, "")
          expect(fromStoreItems(sellerId as SellerId, items)).toEqual(expected[sellerId])
        }
      }).pipe(Effect.provide(MetricsStoreMemory.layerMemory), Effect.runPromise)
    ), { numRuns: 100 })
  })
})
