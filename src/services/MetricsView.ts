import { Effect } from "effect"
import type { SellerId } from "../domain/Ids.js"
import { dayItemPrefix, hourItemPrefix, totalsItem } from "../domain/MetricsDelta.js"
import { withPending } from "../domain/PendingMetrics.js"
import { fromStoreItems, type SellerMetrics } from "../domain/SellerMetrics.js"
import { compareKeyBytes } from "./KeyOrder.js"
import { type ItemRange, type MetricsStore, type MetricsStoreError } from "./MetricsStore.js"

/** The bounds of a metrics read: UTC `YYYY-MM-DD` or `YYYY-MM-DDTHH`, both inclusive; all buckets when absent. */
export interface MetricsBounds {
  readonly from?: string | undefined
  readonly to?: string | undefined
}

/**
 * A seller's metrics as `GET /sellers/{sellerId}/metrics` serves them: its totals, with the hourly and
 * daily buckets within the bounds, from its store items and the pending values not folded into them
 * yet (`withPending`). The reads run at once: the pending records are read with the totals item, and
 * the day items may be read just before or after them (see `withPending` for what that can do).
 */
export const sellerMetrics = (
  store: typeof MetricsStore.Service,
  sellerId: SellerId,
  { from, to }: MetricsBounds = {}
): Effect.Effect<SellerMetrics, MetricsStoreError> =>
  Effect.gen(function*() {
    const bounded = from !== undefined || to !== undefined
    const rangeOf = (length: number): ItemRange | undefined =>
      bounded ? { from: (from ?? "0000").slice(0, length), to: (to ?? "9999").slice(0, length) + "\uffff" } : undefined
    const [hours, days] = [rangeOf(13), rangeOf(10)]
    // The day items hold their hours' counts too; hour items are those written before they did.
    const [{ pending, totals }, hourItems, dayItems] = yield* Effect.all(
      [store.totalsAndPending(sellerId), store.query(sellerId, hourItemPrefix, hours), store.query(sellerId, dayItemPrefix, days)],
      { concurrency: 3 }
    )
    // A pending day is added only where its stored item would have been read.
    const dayWanted = (item: string) =>
      item.startsWith(dayItemPrefix) &&
      (days === undefined || (compareKeyBytes(item, dayItemPrefix + days.from) >= 0 && compareKeyBytes(item, dayItemPrefix + days.to) <= 0))
    const items = withPending([...totals, ...hourItems, ...dayItems], pending, (item) => item === totalsItem || dayWanted(item))
    const metrics = fromStoreItems(sellerId, items)
    if (!bounded) return metrics
    // A day in range brings all its hours: keep those in range (to the hour, when from or to names one).
    const first = (from ?? "0000").slice(0, 13)
    const last = (to ?? "9999").slice(0, 13) + "\uffff"
    return { ...metrics, hourly: metrics.hourly.filter(({ hour }) => hour >= first && hour <= last) }
  })
