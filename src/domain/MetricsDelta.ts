import { Schema } from "effect"
import type { ProductState } from "./Product.js"
import { productFields } from "./Product.js"
import { ProductCreated, ProductDeleted, type ProductEvent, ProductUpdated } from "./ProductEvent.js"

/**
 * A change of one seller's metrics, in the hot store's own terms: per store item
 * ("totals", "day#YYYY-MM-DD"), the numbers to ADD to its attributes. A day item holds the day's counts
 * (`created`, ...) and its hours' (`h20#created`, ...): an event changes two items, not three.
 * Zero attributes and empty items are left out, so equal deltas are deeply equal.
 * Deltas form a commutative monoid under `combine` with `emptyDelta`.
 */
export type Delta = Readonly<Record<string, Readonly<Record<string, number>>>>
export const Delta: Schema.Schema<Delta> = Schema.Record({
  key: Schema.String,
  value: Schema.Record({ key: Schema.String, value: Schema.Number })
}).annotations({ identifier: "MetricsDelta" })

/** The events analytics consumes. LowStockWarning is not one of them (see the consumer matrix). */
export const LifecycleEvent = Schema.Union(ProductCreated, ProductUpdated, ProductDeleted)
export type LifecycleEvent = typeof LifecycleEvent.Type

export const countNames = ["created", "updated", "deleted", "priceChanges"] as const
export type CountName = (typeof countNames)[number]

export const totalsItem = "totals"
/** Items of hourly counts as written before the day items held them: read still, no longer written. */
export const hourItemPrefix = "hour#"
export const dayItemPrefix = "day#"
/** The attribute of a day item counting `name` in its hour `HH`: `h20#created`. */
export const hourCountAttribute = (hour: string, name: CountName): string => `h${hour}#${name}`
/** `[HH, name]` of a day item's hourly count attribute, if it is one. */
export const parseHourCount = (attribute: string): readonly [string, CountName] | undefined => {
  const match = /^h(\d\d)#(created|updated|deleted|priceChanges)$/.exec(attribute)
  return match === null ? undefined : [match[1]!, match[2] as CountName]
}
export const activeProducts = "activeProducts"
export const totalStockUnits = "totalStockUnits"
export const valuePrefix = "value#"
export const categoryPrefix = "cat#"

/** `YYYY-MM-DDTHH` (UTC) of a canonical ISO timestamp. */
export const hourOf = (timestamp: string): string => timestamp.slice(0, 13)
/** `YYYY-MM-DD` (UTC) of a canonical ISO timestamp. */
export const dayOf = (timestamp: string): string => timestamp.slice(0, 10)

export const emptyDelta: Delta = {}

type MutableDelta = Record<string, Record<string, number>>

/** Adds without pruning; `normalized` drops the zeros once at the end (pruning on every add is slow). */
const addTo = (delta: MutableDelta, item: string, attribute: string, amount: number): void => {
  const values = (delta[item] ??= {})
  values[attribute] = (values[attribute] ?? 0) + amount
}

const addAll = (delta: MutableDelta, other: Delta): void => {
  for (const item in other) {
    const values = other[item]!
    for (const attribute in values) addTo(delta, item, attribute, values[attribute]!)
  }
}

const normalized = (delta: MutableDelta): Delta => {
  const out: MutableDelta = {}
  for (const item in delta) {
    const values = delta[item]!
    let kept: Record<string, number> | undefined
    for (const attribute in values) {
      if (values[attribute] !== 0) (kept ??= {})[attribute] = values[attribute]!
    }
    if (kept !== undefined) out[item] = kept
  }
  return out
}

/**
 * Money totals (price × stock, summed) pass 2^53 easily (a price may be up to 2^53-1 minor units, a
 * stock up to 10^9), and neither a JS number nor a DynamoDB ADD of one may carry them then. So a
 * product's value is added in base-10^7 limbs, each its own attribute: `value#EUR` (limb 0, units),
 * `value#EUR#1` (10^7s), `value#EUR#2`, `value#EUR#3` (4 limbs cover (2^53-1) × 10^9 < 10^28). Every
 * addend is below 10^7, so a limb's total stays exact up to 900 million products, and the total is
 * `Σ limb_i × 10^(7i)`, computed exactly (`moneyTotals`) and served as a decimal string.
 */
export const valueLimbBase = 10_000_000
export const valueLimbCount = 4
export const valueAttribute = (currency: string, limb: number): string =>
  limb === 0 ? valuePrefix + currency : `${valuePrefix}${currency}#${limb}`

/** The limbs of a non-negative integer, least significant first (exact for any size). */
export const valueLimbs = (value: bigint): Array<number> => {
  const limbs: Array<number> = []
  const base = BigInt(valueLimbBase)
  for (let rest = value; rest > 0n; rest /= base) limbs.push(Number(rest % base))
  return limbs
}

const addValue = (delta: MutableDelta, currency: string, sign: 1 | -1, amountMinor: number, stock: number): void => {
  const value = amountMinor * stock
  if (value < valueLimbBase) return addTo(delta, totalsItem, valueAttribute(currency, 0), sign * value)
  valueLimbs(BigInt(amountMinor) * BigInt(stock)).forEach((limb, i) => addTo(delta, totalsItem, valueAttribute(currency, i), sign * limb))
}

/** The exact money totals per currency of a totals item's values (zeros left out). */
export const moneyTotals = (values: Readonly<Record<string, number>>): Record<string, bigint> => {
  const totals: Record<string, bigint> = {}
  for (const name of Object.keys(values)) {
    if (!name.startsWith(valuePrefix)) continue
    const [currency, limb] = name.slice(valuePrefix.length).split("#") as [string, string | undefined]
    const scale = BigInt(valueLimbBase) ** BigInt(limb === undefined ? 0 : Number(limb))
    totals[currency] = (totals[currency] ?? 0n) + BigInt(values[name]!) * scale
  }
  for (const currency of Object.keys(totals)) if (totals[currency] === 0n) delete totals[currency]
  return totals
}

const addProduct = (delta: MutableDelta, product: ProductState, sign: 1 | -1): void => {
  addTo(delta, totalsItem, activeProducts, sign)
  addTo(delta, totalsItem, totalStockUnits, sign * product.stock)
  addValue(delta, product.price.currency, sign, product.price.amountMinor, product.stock)
  addTo(delta, totalsItem, categoryPrefix + product.category, sign)
}

const count = (delta: MutableDelta, timestamp: string, name: CountName): void => {
  addTo(delta, totalsItem, name, 1)
  const day = dayItemPrefix + dayOf(timestamp)
  addTo(delta, day, name, 1)
  addTo(delta, day, hourCountAttribute(timestamp.slice(11, 13), name), 1)
}

/** The product as it stood before an update: the changed fields put back to their `before` values. */
export const stateBefore = (event: ProductUpdated): ProductState => {
  const { changes, product } = event.data
  const before: Record<string, unknown> = { ...product }
  for (const field of productFields) {
    const change = changes[field]
    if (change !== undefined) before[field] = change.before
  }
  return before as unknown as ProductState
}

const accumulate = (delta: MutableDelta, event: ProductEvent): void => {
  switch (event.eventType) {
    case "ProductCreated":
      addProduct(delta, event.data.product, 1)
      count(delta, event.timestamp, "created")
      break
    case "ProductUpdated":
      addProduct(delta, stateBefore(event), -1)
      addProduct(delta, event.data.product, 1)
      count(delta, event.timestamp, "updated")
      if (event.data.changes.price !== undefined) count(delta, event.timestamp, "priceChanges")
      break
    case "ProductDeleted":
      addProduct(delta, event.data.product, -1)
      count(delta, event.timestamp, "deleted")
      break
    case "LowStockWarning":
      break
  }
}

/** The delta of one event, from the event alone. LowStockWarning changes no metric. */
export const deltaOf = (event: ProductEvent): Delta => {
  const delta: MutableDelta = {}
  accumulate(delta, event)
  return normalized(delta)
}

/** Associative and commutative, `emptyDelta` its identity. */
export const combine = (a: Delta, b: Delta): Delta => {
  const delta: MutableDelta = {}
  addAll(delta, a)
  addAll(delta, b)
  return normalized(delta)
}

export const combineAll = (deltas: Iterable<Delta>): Delta => {
  const delta: MutableDelta = {}
  for (const d of deltas) addAll(delta, d)
  return normalized(delta)
}

/** The CPU part of the analytics consumer: one delta per seller for a batch (sellers with nothing to change left out). */
export const deltasBySeller = (events: Iterable<ProductEvent>): Record<string, Delta> => {
  const bySeller: Record<string, MutableDelta> = {}
  for (const event of events) accumulate((bySeller[event.data.sellerId] ??= {}), event)
  const out: Record<string, Delta> = {}
  for (const sellerId in bySeller) {
    const delta = normalized(bySeller[sellerId]!)
    if (Object.keys(delta).length > 0) out[sellerId] = delta
  }
  return out
}
