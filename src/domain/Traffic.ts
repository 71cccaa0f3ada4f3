import { type Money } from "./Money.js"
import type { ProductState } from "./Product.js"
import { makeEventId } from "./ProductEvent.js"
import { timestampFromMillis } from "./Timestamp.js"

/**
 * A simulation of sellers' activity for the demo: listings, price changes, sales that cross the
 * low-stock threshold, restocks and removals. Pure given its random source; produces encoded
 * events that obey the contract, including unique eventIds (a clash bumps the timestamp by 1 ms).
 */

export interface TrafficState {
  readonly sellers: ReadonlyArray<string>
  readonly products: ReadonlyMap<string, ReadonlyMap<string, ProductState>>
  readonly nextProduct: number
  /** Last millisecond used per product and type, to keep eventIds unique. */
  readonly lastMillis: ReadonlyMap<string, number>
}

export type Random = () => number

const catalogue: ReadonlyArray<readonly [string, string, number]> = [
  ["Walnut desk lamp", "home/lighting", 4999],
  ["Linen throw", "home/textiles", 3450],
  ["Espresso cups (set of 4)", "kitchen/tableware", 2400],
  ["Trail running shoes", "sports/running", 12900],
  ["Wireless earbuds", "electronics/audio", 7999],
  ["Cast iron skillet", "kitchen/cookware", 3999],
  ["Wool beanie", "fashion/accessories", 1899],
  ["Yoga mat", "sports/fitness", 2999]
]
const currencies: ReadonlyArray<Money["currency"]> = ["EUR", "EUR", "EUR", "USD", "GBP", "JPY"]

const pick = <A>(random: Random, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

export const initialTraffic = (sellerCount: number): TrafficState => ({
  sellers: Array.from({ length: sellerCount }, (_, i) => `seller_${String(i + 1).padStart(3, "0")}`),
  products: new Map(),
  nextProduct: 1,
  lastMillis: new Map()
})

/** The next events (one, or an update and the low-stock warning it caused) of a random seller at time `now`. */
export const nextEvents = (state: TrafficState, random: Random, now: number): readonly [ReadonlyArray<unknown>, TrafficState] => {
  const [events, next] = step(state, random, now)
  return [Array.isArray(events) ? events : [events], next]
}

const step = (state: TrafficState, random: Random, now: number): readonly [unknown, TrafficState] => {
  const sellerId = pick(random, state.sellers)
  const own = state.products.get(sellerId) ?? new Map<string, ProductState>()
  const roll = random()
  const existing = [...own.entries()]
  if (existing.length === 0 || (roll < 0.15 && existing.length < 20)) {
    const [name, category, base] = pick(random, catalogue)
    const currency = pick(random, currencies)
    const product: ProductState = {
      name,
      category,
      price: { amountMinor: currency === "JPY" ? Math.round(base * 1.5) : base, currency },
      stock: 10 + Math.floor(random() * 40),
      lowStockThreshold: 5
    }
    const productId = `sku_${state.nextProduct}`
    return emit(state, sellerId, productId, "ProductCreated", now, { product }, (s) => ({
      ...s,
      nextProduct: s.nextProduct + 1,
      products: withProduct(s.products, sellerId, productId, product)
    }))
  }
  const [productId, product] = pick(random, existing)
  if (roll < 0.2) {
    return emit(state, sellerId, productId, "ProductDeleted", now, { product }, (s) => ({
      ...s,
      products: withProduct(s.products, sellerId, productId, undefined)
    }))
  }
  if (roll < 0.4) {
    const factor = pick(random, [0.9, 0.95, 1.05, 1.1])
    const price = { ...product.price, amountMinor: Math.max(1, Math.round(product.price.amountMinor * factor)) }
    if (price.amountMinor === product.price.amountMinor) price.amountMinor += 1
    return update(state, sellerId, productId, product, { ...product, price }, now)
  }
  const sold = product.stock === 0 ? -(20 + Math.floor(random() * 20)) : 1 + Math.floor(random() * 3)
  const after = { ...product, stock: Math.max(0, product.stock - sold) }
  if (after.stock === product.stock) return update(state, sellerId, productId, product, { ...product, stock: 30 }, now)
  const [updatedEvent, next] = update(state, sellerId, productId, product, after, now)
  if (after.stock <= after.lowStockThreshold && product.stock > after.lowStockThreshold) {
    // the low-stock warning follows the update that crossed the threshold
    const [warning, last] = emit(next, sellerId, productId, "LowStockWarning", now, {
      name: after.name,
      stock: after.stock,
      lowStockThreshold: after.lowStockThreshold
    }, (s) => s)
    return [[updatedEvent, warning], last]
  }
  return [updatedEvent, next]
}

const update = (
  state: TrafficState,
  sellerId: string,
  productId: string,
  before: ProductState,
  after: ProductState,
  now: number
) => {
  const changes: Record<string, { before: unknown; after: unknown }> = {}
  for (const key of Object.keys(after) as Array<keyof ProductState>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[key] = { before: before[key], after: after[key] }
  }
  return emit(state, sellerId, productId, "ProductUpdated", now, { changes, product: after }, (s) => ({
    ...s,
    products: withProduct(s.products, sellerId, productId, after)
  }))
}

const emit = (
  state: TrafficState,
  sellerId: string,
  productId: string,
  eventType: "ProductCreated" | "ProductUpdated" | "ProductDeleted" | "LowStockWarning",
  now: number,
  data: object,
  next: (s: TrafficState) => TrafficState
): readonly [unknown, TrafficState] => {
  const key = `${sellerId}-${productId}-${eventType}`
  const millis = Math.max(now, (state.lastMillis.get(key) ?? 0) + 1)
  const timestamp = timestampFromMillis(millis)
  const event = {
    eventId: makeEventId(sellerId, productId, eventType, timestamp),
    eventType,
    timestamp,
    data: { sellerId, productId, ...data }
  }
  return [event, next({ ...state, lastMillis: new Map(state.lastMillis).set(key, millis) })]
}

const withProduct = (
  all: ReadonlyMap<string, ReadonlyMap<string, ProductState>>,
  sellerId: string,
  productId: string,
  product: ProductState | undefined
) => {
  const own = new Map(all.get(sellerId))
  if (product === undefined) own.delete(productId)
  else own.set(productId, product)
  return new Map(all).set(sellerId, own)
}
