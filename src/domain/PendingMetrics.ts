import { Schema } from "effect"
import { Delta } from "./MetricsDelta.js"
import { type MetricsItem } from "./SellerMetrics.js"

/**
 * What the hot path has read of a seller's events and not yet folded into the seller's items: one
 * record per (seller, source partition), replaced whole at each write. Its windows are the
 * partition's fold windows not yet applied, oldest first, each with the first offset it folds
 * (`fromOffset`) and the seller's delta so far. A window's values stand for an item only while the
 * item's watermark of the partition is before the window (`withPending`): once the window is applied,
 * the watermark of every item it changes is at or past its first offset (the items that only its
 * duplicates change get the watermark alone), and its counted values are in the items themselves.
 */
export interface PendingMetrics {
  readonly sellerId: string
  readonly partition: number
  readonly windows: ReadonlyArray<PendingWindow>
}

/** A window of a pending record: its first offset in the partition, and the seller's delta of its events read so far. */
export const PendingWindow = Schema.Struct({ fromOffset: Schema.NonNegativeInt, delta: Delta })
export type PendingWindow = typeof PendingWindow.Type

/** A stored item with its watermarks: the last offset folded into it, by source partition. */
export interface WatermarkedItem extends MetricsItem {
  readonly watermarks: Readonly<Record<number, number>>
}

/**
 * The items with the pending values that are not in them yet: a window's values for an item are added
 * where the item has no watermark of the window's partition, or one before the window's first offset.
 * Pending items the reader did not ask for (`wanted`) are left out; wanted items that exist only in
 * a pending window come out too, in key order with the rest.
 *
 * Where a window was applied to an item read, the item's watermark leaves the window out, whatever the
 * order of the reads and writes: no event shows twice, but for an event published twice, until the
 * batch of its second record is applied. A read can show less than was read: an item read just before
 * a window is applied and a record written just after; after a crash, the restarted process's windows
 * until it applies them, where an item was already applied past their first offset.
 */
export const withPending = (
  items: ReadonlyArray<WatermarkedItem>,
  pending: ReadonlyArray<PendingMetrics>,
  wanted: (item: string) => boolean
): Array<MetricsItem> => {
  const merged = new Map<string, { values: Record<string, number>; readonly watermarks: Readonly<Record<number, number>> }>()
  for (const { item, values, watermarks } of items) merged.set(item, { values: { ...values }, watermarks })
  for (const { partition, windows } of pending) {
    for (const { delta, fromOffset } of windows) {
      for (const item in delta) {
        if (!wanted(item)) continue
        let target = merged.get(item)
        const watermark = target?.watermarks[partition]
        if (watermark !== undefined && watermark >= fromOffset) continue
        if (target === undefined) merged.set(item, target = { values: {}, watermarks: {} })
        const add = delta[item]!
        for (const name in add) target.values[name] = (target.values[name] ?? 0) + add[name]!
      }
    }
  }
  return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([item, { values }]) => ({ item, values }))
}
