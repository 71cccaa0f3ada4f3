import { Schema } from "effect"
import { SellerId } from "./Ids.js"
import {
  activeProducts,
  categoryPrefix,
  combine,
  countNames,
  type CountName,
  dayItemPrefix,
  type Delta,
  hourCountAttribute,
  hourItemPrefix,
  moneyTotals,
  parseHourCount,
  totalsItem,
  totalStockUnits,
  valueAttribute,
  valueLimbs
} from "./MetricsDelta.js"

export * from "./MetricsDelta.js"

const Count = Schema.Int.annotations({ description: "Number of events." })

export const Counts = Schema.Struct({
  created: Count,
  updated: Count,
  deleted: Count,
  priceChanges: Count
}).annotations({ identifier: "MetricCounts", description: "Lifecycle events counted: created, updated, deleted, and updates that changed the price." })
export type Counts = typeof Counts.Type

export const HourBucket = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}$/),
  Schema.annotations({ identifier: "HourBucket", description: "UTC hour of the events' timestamps: YYYY-MM-DDTHH.", examples: ["2026-11-26T20"] })
)
export const DayBucket = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}$/),
  Schema.annotations({ identifier: "DayBucket", description: "UTC day of the events' timestamps: YYYY-MM-DD.", examples: ["2026-11-26"] })
)

export const HourlyCounts = Schema.Struct({ hour: HourBucket, ...Counts.fields }).annotations({ identifier: "HourlyCounts" })
export type HourlyCounts = typeof HourlyCounts.Type
export const DailyCounts = Schema.Struct({ day: DayBucket, ...Counts.fields }).annotations({ identifier: "DailyCounts" })
export type DailyCounts = typeof DailyCounts.Type

/**
 * An exact integer as a decimal string: money totals can pass 2^53, past which a JSON number is not
 * exact for most readers (JavaScript's among them).
 */
export const DecimalString = Schema.String.pipe(
  Schema.pattern(/^-?(0|[1-9][0-9]*)$/),
  Schema.annotations({
    identifier: "DecimalString",
    description: "An exact integer in decimal digits, as a string: money totals can exceed 2^53.",
    examples: ["1999"]
  })
)

/** What `GET /sellers/{sellerId}/metrics` serves. Zero entries (a currency or category at 0) are left out. */
export const SellerMetrics = Schema.Struct({
  sellerId: SellerId,
  activeProducts: Schema.Int.annotations({ description: "Products created and not deleted." }),
  totalStockUnits: Schema.Int.annotations({ description: "Sum of the stock of the active products." }),
  inventoryValue: Schema.Record({ key: Schema.String, value: DecimalString }).annotations({
    description:
      "Per ISO-4217 currency: sum of price * stock over the active products, in minor units, as a decimal string (it can exceed 2^53)."
  }),
  byCategory: Schema.Record({ key: Schema.String, value: Schema.Int }).annotations({
    description: "Active products per category."
  }),
  counts: Counts.annotations({ description: "All-time counts." }),
  hourly: Schema.Array(HourlyCounts).annotations({ description: "Counts per UTC hour, oldest first." }),
  daily: Schema.Array(DailyCounts).annotations({ description: "Counts per UTC day, oldest first." })
}).annotations({ identifier: "SellerMetrics", description: "A seller's analytics metrics." })
export type SellerMetrics = typeof SellerMetrics.Type

/** One item of a seller's metrics: its key ("totals", "hour#…", "day#…") and its values. */
export interface MetricsItem {
  readonly item: string
  readonly values: Readonly<Record<string, number>>
}

const zeroCounts: Counts = { created: 0, updated: 0, deleted: 0, priceChanges: 0 }

export const emptyMetrics = (sellerId: SellerId): SellerMetrics => ({
  sellerId,
  activeProducts: 0,
  totalStockUnits: 0,
  inventoryValue: {},
  byCategory: {},
  counts: zeroCounts,
  hourly: [],
  daily: []
})

const countsOf = (values: Readonly<Record<string, number>>): Counts => ({
  created: values.created ?? 0,
  updated: values.updated ?? 0,
  deleted: values.deleted ?? 0,
  priceChanges: values.priceChanges ?? 0
})

const isZero = (counts: Counts): boolean => countNames.every((name) => counts[name] === 0)

const byPrefix = (values: Readonly<Record<string, number>>, prefix: string): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const name of Object.keys(values).sort()) {
    if (name.startsWith(prefix) && values[name] !== 0) out[name.slice(prefix.length)] = values[name]!
  }
  return out
}

/** The metrics view of a seller's store items (e.g. the answer of `MetricsStore.query(sellerId, "")`). */
export const fromStoreItems = (sellerId: SellerId, items: ReadonlyArray<MetricsItem>): SellerMetrics => {
  let totals: Readonly<Record<string, number>> = {}
  const hours = new Map<string, Record<CountName, number>>()
  const addHour = (hour: string, name: CountName, n: number) => {
    let counts = hours.get(hour)
    if (counts === undefined) hours.set(hour, counts = { created: 0, updated: 0, deleted: 0, priceChanges: 0 })
    counts[name] += n
  }
  const daily: Array<DailyCounts> = []
  for (const { item, values } of items) {
    if (item === totalsItem) totals = values
    else if (item.startsWith(hourItemPrefix)) {
      const hour = item.slice(hourItemPrefix.length)
      for (const name of countNames) if (values[name] !== undefined) addHour(hour, name, values[name])
    } else if (item.startsWith(dayItemPrefix)) {
      const day = item.slice(dayItemPrefix.length)
      const counts = countsOf(values)
      if (!isZero(counts)) daily.push({ day, ...counts })
      for (const attribute in values) {
        const hourCount = parseHourCount(attribute)
        if (hourCount !== undefined) addHour(`${day}T${hourCount[0]}`, hourCount[1], values[attribute]!)
      }
    }
  }
  const hourly: Array<HourlyCounts> = [...hours].filter(([, counts]) => !isZero(counts)).map(([hour, counts]) => ({ hour, ...counts }))
  hourly.sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0))
  daily.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
  return {
    sellerId,
    activeProducts: totals[activeProducts] ?? 0,
    totalStockUnits: totals[totalStockUnits] ?? 0,
    inventoryValue: Object.fromEntries(Object.entries(moneyTotals(totals)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, v]) => [c, String(v)])),
    byCategory: byPrefix(totals, categoryPrefix),
    counts: countsOf(totals),
    hourly,
    daily
  }
}

const withoutZeros = (values: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => v !== 0))

/** The metrics as a delta from nothing: the store items they stand for. */
export const asDelta = (metrics: SellerMetrics): Delta => {
  const delta: Record<string, Record<string, number>> = {}
  const prefixed = (prefix: string, values: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [prefix + k, v]))
  const totals = withoutZeros({
    [activeProducts]: metrics.activeProducts,
    [totalStockUnits]: metrics.totalStockUnits,
    ...Object.fromEntries(Object.entries(metrics.inventoryValue).flatMap(([currency, value]) => {
      const amount = BigInt(value)
      const sign = amount < 0n ? -1 : 1
      return valueLimbs(amount < 0n ? -amount : amount).map((limb, i) => [valueAttribute(currency, i), sign * limb])
    })),
    ...prefixed(categoryPrefix, metrics.byCategory),
    ...metrics.counts
  })
  if (Object.keys(totals).length > 0) delta[totalsItem] = totals
  for (const { day, ...counts } of metrics.daily) {
    const values = withoutZeros({ ...counts })
    if (Object.keys(values).length > 0) delta[dayItemPrefix + day] = values
  }
  for (const { hour, ...counts } of metrics.hourly) {
    const values = withoutZeros(Object.fromEntries(countNames.map((name) => [hourCountAttribute(hour.slice(11, 13), name), counts[name]])))
    if (Object.keys(values).length > 0) delta[dayItemPrefix + hour.slice(0, 10)] = { ...delta[dayItemPrefix + hour.slice(0, 10)], ...values }
  }
  return delta
}

/** The delta as store items, sorted by item key. */
export const deltaItems = (delta: Delta): ReadonlyArray<MetricsItem> =>
  Object.keys(delta).sort().map((item) => ({ item, values: delta[item]! }))

export const applyDelta = (metrics: SellerMetrics, delta: Delta): SellerMetrics =>
  fromStoreItems(metrics.sellerId, deltaItems(combine(asDelta(metrics), delta)))
