import { Schema } from "effect"
import type { SellerId } from "../../src/domain/Ids.js"
import { combineAll, deltaItems, deltaOf, fromStoreItems, SellerMetrics } from "../../src/domain/SellerMetrics.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { created, deleted, lowStock, product, updated } from "./events.js"

/**
 * A ground-truth load for fault tests: consistent product lives for a set of sellers (created, price
 * and stock changes, low-stock warnings, deletions), each event stamped with a strictly increasing
 * time so that eventIds never collide. What the system accepted is recorded by the caller
 * (`accept`), and the expected analytics of a seller is the fold of its accepted lifecycle events.
 */

type State = ReturnType<typeof product>

const encodeMetrics = Schema.encodeSync(SellerMetrics)

export const makeLoad = (sellers: ReadonlyArray<string>, seed = 1) => {
  let random = seed >>> 0
  const next = () => {
    // xorshift32: the same load for the same seed
    random ^= random << 13
    random ^= random >>> 17
    random ^= random << 5
    return (random >>> 0) / 0x1_0000_0000
  }
  const products = new Map<string, Map<string, State>>(sellers.map((s) => [s, new Map()]))
  const serials = new Map<string, number>(sellers.map((s) => [s, 0]))
  let cursor = 0
  let lastMillis = 0
  /** Accepted events, per seller, in the order the system accepted them. */
  const accepted = new Map<string, Array<ProductEvent>>(sellers.map((s) => [s, []]))

  /** The next event of the next seller (round robin). */
  const event = (): ProductEvent => {
    const seller = sellers[cursor++ % sellers.length]!
    const owned = products.get(seller)!
    const millis = (lastMillis = Math.max(Date.now(), lastMillis + 1))
    const roll = next()
    if (owned.size < 2 || roll < 0.15) {
      const id = `p${serials.get(seller)!}`
      serials.set(seller, serials.get(seller)! + 1)
      const state = product({
        price: { amountMinor: 100 + Math.floor(next() * 10_000), currency: next() < 0.5 ? "EUR" : "USD" },
        stock: 10 + Math.floor(next() * 90),
        category: next() < 0.5 ? "home/lighting" : "garden"
      })
      owned.set(id, state)
      return created(seller, id, millis, state)
    }
    const ids = [...owned.keys()]
    const id = ids[Math.floor(next() * ids.length)]!
    const before = owned.get(id)!
    if (roll < 0.25) {
      owned.delete(id)
      return deleted(seller, id, millis, before)
    }
    if (roll < 0.35) return lowStock(seller, id, millis, before.stock, before.stock + 1)
    const after = roll < 0.7
      ? { ...before, stock: before.stock > 0 ? before.stock - 1 : 5 }
      : { ...before, price: { ...before.price, amountMinor: before.price.amountMinor + 1 + Math.floor(next() * 100) } }
    owned.set(id, after)
    return updated(seller, id, millis, before, after)
  }

  /** `n` next events (each seller's in its order). */
  const batch = (n: number): Array<ProductEvent> => Array.from({ length: n }, event)

  const accept = (events: Iterable<ProductEvent>) => {
    for (const e of events) accepted.get(e.data.sellerId)!.push(e)
  }

  /** The seller's metrics as `GET /sellers/{id}/metrics` must serve them: the fold of its accepted events. */
  const expectedMetrics = (seller: string): unknown =>
    encodeMetrics(fromStoreItems(seller as SellerId, deltaItems(combineAll(accepted.get(seller)!.map(deltaOf)))))

  return { batch, accept, accepted, expectedMetrics } as const
}

export type Load = ReturnType<typeof makeLoad>

/** Objects compared regardless of key order (arrays in order). */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value !== null && typeof value === "object"
    ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
    : value
