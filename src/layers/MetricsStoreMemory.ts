import { Effect, Layer, Option } from "effect"
import {
  type ApplyResult,
  claimItemPrefix,
  type ItemRange,
  MetricsStore,
  type MetricsUpdate,
  checkUpdate,
  compareSortKeys
} from "../services/MetricsStore.js"

interface StoredItem {
  readonly item: string
  readonly values: Record<string, number>
  /** Last applied offset by source partition. */
  readonly watermarks: Map<number, number>
  source?: string
}



/**
 * The table in memory: a partition (Map) per seller of items by sort key. Every operation is one
 * synchronous step, so each is atomic as a DynamoDB conditional write is.
 */
export const make = Effect.sync(() => {
  const sellers = new Map<string, Map<string, StoredItem>>()
  const partitionOf = (sellerId: string) => {
    let items = sellers.get(sellerId)
    if (items === undefined) sellers.set(sellerId, items = new Map())
    return items
  }
  const itemOf = (sellerId: string, item: string) => Option.fromNullable(sellers.get(sellerId)?.get(item))

  const apply = Effect.fn("MetricsStore.apply")(function*(update: MetricsUpdate) {
    yield* checkUpdate(update)
    const items = partitionOf(update.sellerId)
    const current = items.get(update.item)
    const watermark = current?.watermarks.get(update.partition)
    if (watermark !== undefined && watermark >= update.fromOffset) {
      return (watermark >= update.offset ? "duplicate" : "overlap") satisfies ApplyResult
    }
    const stored: StoredItem = current ?? { item: update.item, values: {}, watermarks: new Map() }
    for (const [name, delta] of Object.entries(update.add)) stored.values[name] = (stored.values[name] ?? 0) + delta
    stored.watermarks.set(update.partition, update.offset)
    items.set(update.item, stored)
    return "applied" satisfies ApplyResult
  })

  const get = Effect.fn("MetricsStore.get")((sellerId: string, item: string) =>
    Effect.sync(() => Option.map(itemOf(sellerId, item), (stored) => ({ ...stored.values })))
  )

  const watermark = Effect.fn("MetricsStore.watermark")((sellerId: string, item: string, partition: number) =>
    Effect.sync(() => Option.flatMap(itemOf(sellerId, item), (stored) => Option.fromNullable(stored.watermarks.get(partition))))
  )

  const query = Effect.fn("MetricsStore.query")((sellerId: string, itemPrefix: string, range?: ItemRange) =>
    Effect.sync(() =>
      [...(sellers.get(sellerId)?.values() ?? [])]
        .filter((stored) =>
          stored.item.startsWith(itemPrefix) && stored.source === undefined &&
          (range === undefined ||
            (compareSortKeys(stored.item, itemPrefix + range.from) >= 0 && compareSortKeys(stored.item, itemPrefix + range.to) <= 0))
        )
        .sort((a, b) => compareSortKeys(a.item, b.item))
        .map((stored) => ({ item: stored.item, values: { ...stored.values } }))
    )
  )

  const claim = Effect.fn("MetricsStore.claim")((sellerId: string, eventId: string, source: string) =>
    Effect.sync(() => {
      const items = partitionOf(sellerId)
      const key = claimItemPrefix + eventId
      const existing = items.get(key)
      if (existing === undefined) {
        items.set(key, { item: key, values: {}, watermarks: new Map(), source })
        return true
      }
      return existing.source === source
    })
  )

  const release = Effect.fn("MetricsStore.release")((sellerId: string, eventId: string, source: string) =>
    Effect.sync(() => {
      const items = sellers.get(sellerId)
      if (items?.get(claimItemPrefix + eventId)?.source === source) items.delete(claimItemPrefix + eventId)
    })
  )

  return MetricsStore.of({
    apply,
    get,
    watermark,
    query,
    claim,
    release,
    ping: Effect.void.pipe(Effect.withSpan("MetricsStore.ping"))
  })
})

/** A fresh, empty table per layer build. */
export const layerMemory = Layer.effect(MetricsStore, make)
