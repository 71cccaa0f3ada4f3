import { Effect, Layer, Option, Ref } from "effect"
import {
  type ApplyResult,
  isReservedAttribute,
  type ItemRange,
  MetricsStore,
  type MetricsUpdate
} from "../services/MetricsStore.js"

interface StoredItem {
  readonly sellerId: string
  readonly item: string
  readonly values: Readonly<Record<string, number>>
  /** Last applied offset by source partition. */
  readonly watermarks: ReadonlyMap<number, number>
}

/** DynamoDB orders string sort keys by UTF-8 bytes. */
const byKeyBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

const itemKey = (sellerId: string, item: string) => JSON.stringify([sellerId, item])

const checkUpdate = (update: MetricsUpdate) => {
  const { fromOffset, offset, partition } = update
  if (![fromOffset, offset, partition].every((n) => Number.isSafeInteger(n) && n >= 0) || fromOffset > offset) {
    return Effect.dieMessage(`MetricsStore.apply: invalid partition/offset range ${partition}:[${fromOffset}, ${offset}]`)
  }
  const reserved = Object.keys(update.add).filter(isReservedAttribute)
  if (reserved.length > 0) return Effect.dieMessage(`MetricsStore.apply: reserved attribute names ${reserved.join(", ")}`)
  return Effect.void
}

export const make = Effect.gen(function*() {
  const items = yield* Ref.make<ReadonlyMap<string, StoredItem>>(new Map())
  const itemOf = (sellerId: string, item: string) =>
    Effect.map(Ref.get(items), (all) => Option.fromNullable(all.get(itemKey(sellerId, item))))

  const apply = Effect.fn("MetricsStore.apply")(function*(update: MetricsUpdate) {
    yield* checkUpdate(update)
    const key = itemKey(update.sellerId, update.item)
    return yield* Ref.modify(items, (all): readonly [ApplyResult, ReadonlyMap<string, StoredItem>] => {
      const current = all.get(key)
      const watermark = current?.watermarks.get(update.partition)
      if (watermark !== undefined && watermark >= update.fromOffset) {
        return [watermark >= update.offset ? "duplicate" : "overlap", all]
      }
      const values: Record<string, number> = { ...current?.values }
      for (const [name, delta] of Object.entries(update.add)) values[name] = (values[name] ?? 0) + delta
      const watermarks = new Map(current?.watermarks).set(update.partition, update.offset)
      return ["applied", new Map(all).set(key, { sellerId: update.sellerId, item: update.item, values, watermarks })]
    })
  })

  const get = Effect.fn("MetricsStore.get")((sellerId: string, item: string) =>
    Effect.map(itemOf(sellerId, item), Option.map((stored) => ({ ...stored.values })))
  )

  const watermark = Effect.fn("MetricsStore.watermark")((sellerId: string, item: string, partition: number) =>
    Effect.map(itemOf(sellerId, item), Option.flatMap((stored) => Option.fromNullable(stored.watermarks.get(partition))))
  )

  const query = Effect.fn("MetricsStore.query")((sellerId: string, itemPrefix: string, range?: ItemRange) =>
    Effect.map(Ref.get(items), (all) =>
      [...all.values()]
        .filter((stored) =>
          stored.sellerId === sellerId && stored.item.startsWith(itemPrefix) &&
          (range === undefined ||
            (byKeyBytes(stored.item, itemPrefix + range.from) >= 0 && byKeyBytes(stored.item, itemPrefix + range.to) <= 0))
        )
        .sort((a, b) => byKeyBytes(a.item, b.item))
        .map((stored) => ({ item: stored.item, values: { ...stored.values } })))
  )

  return MetricsStore.of({
    apply,
    get,
    watermark,
    query,
    ping: Effect.void.pipe(Effect.withSpan("MetricsStore.ping"))
  })
})

/** A fresh, empty table per layer build. */
export const layerMemory = Layer.effect(MetricsStore, make)
