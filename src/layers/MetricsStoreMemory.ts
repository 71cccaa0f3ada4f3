import { Clock, type Duration, Effect, Layer, Option } from "effect"
import { totalsItem } from "../domain/MetricsDelta.js"
import type { PendingMetrics } from "../domain/PendingMetrics.js"
import {
  type ApplyResult,
  type Claim,
  claimExpiry,
  claimItemPrefix,
  claimLapsed,
  releasedClaim,
  claimRetentionConfig,
  claimRetentionOf,
  type ItemRange,
  MetricsStore,
  type MetricsUpdate,
  checkUpdate,
  pendingItem,
  pendingItemPrefix
} from "../services/MetricsStore.js"
import { compareKeyBytes } from "../services/KeyOrder.js"

interface StoredItem {
  readonly item: string
  readonly values: Record<string, number>
  /** Last applied offset by source partition. */
  readonly watermarks: Map<number, number>
  source?: string
  /** A claim's expiry, epoch seconds. */
  expiresAt?: number
  /** A pending record (`putPending`). */
  pending?: PendingMetrics
}

export interface Options {
  /** How long a claim holds. Default `defaultClaimRetention` (30 days). */
  readonly claimRetention?: Duration.DurationInput
}

/**
 * The table in memory: a partition (Map) per seller of items by sort key. Every operation is one
 * synchronous step, so each is atomic as a DynamoDB conditional write is.
 */
export const make = (options: Options = {}) => Effect.sync(() => {
  const retention = claimRetentionOf(options)
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
          stored.item.startsWith(itemPrefix) && stored.source === undefined && !stored.item.startsWith(pendingItemPrefix) &&
          (range === undefined ||
            (compareKeyBytes(stored.item, itemPrefix + range.from) >= 0 && compareKeyBytes(stored.item, itemPrefix + range.to) <= 0))
        )
        .sort((a, b) => compareKeyBytes(a.item, b.item))
        .map((stored) => ({ item: stored.item, values: { ...stored.values }, watermarks: Object.fromEntries(stored.watermarks) }))
    )
  )

  const putPending = Effect.fn("MetricsStore.putPending")((pending: ReadonlyArray<PendingMetrics>) =>
    Effect.sync(() => {
      for (const record of pending) {
        const item = pendingItem(record.partition)
        partitionOf(record.sellerId).set(item, { item, values: {}, watermarks: new Map(), pending: structuredClone(record) })
      }
    })
  )

  const totalsAndPending = Effect.fn("MetricsStore.totalsAndPending")((sellerId: string) =>
    Effect.map(query(sellerId, totalsItem), (totals) => ({
      totals: totals.filter(({ item }) => item === totalsItem),
      pending: [...(sellers.get(sellerId)?.values() ?? [])]
        .filter((stored) => stored.item.startsWith(pendingItemPrefix) && stored.pending !== undefined)
        .sort((a, b) => compareKeyBytes(a.item, b.item))
        .map((stored) => structuredClone(stored.pending!))
    }))
  )

  /**
   * Claims in the order they expire (the retention is one for all), to delete lapsed ones as later
   * claims come: as DynamoDB's TTL does, so memory stays bounded by the retention's traffic.
   */
  const expiries: Array<{ readonly sellerId: string; readonly key: string; readonly expiresAt: number }> = []
  let nextExpiry = 0
  const deleteLapsed = (now: number) => {
    while (nextExpiry < expiries.length && claimLapsed(expiries[nextExpiry]!.expiresAt, now)) {
      const { expiresAt, key, sellerId } = expiries[nextExpiry++]!
      const items = sellers.get(sellerId)
      // A claim renewed since (a redelivery) has a later expiry and an entry of its own further on.
      if (items?.get(key)?.expiresAt === expiresAt) items.delete(key)
    }
    if (nextExpiry > 1024 && nextExpiry * 2 > expiries.length) {
      expiries.splice(0, nextExpiry)
      nextExpiry = 0
    }
  }

  /** A claim made at `now`; `renew`: a claim held by the same source gets a new expiry (as `claim`, not `claimMany`). */
  const claimAt = (now: number, { eventId, sellerId, source }: Claim, renew: boolean) => {
    const items = partitionOf(sellerId)
    const key = claimItemPrefix + eventId
    const existing = items.get(key)
    if (existing !== undefined && existing.source !== releasedClaim && !claimLapsed(existing.expiresAt ?? Infinity, now)) {
      if (existing.source !== source) return false
      if (!renew) return true
    }
    const expiresAt = claimExpiry(now, retention)
    items.set(key, { item: key, values: {}, watermarks: new Map(), source, expiresAt })
    expiries.push({ sellerId, key, expiresAt })
    return true
  }

  const claim = Effect.fn("MetricsStore.claim")((sellerId: string, eventId: string, source: string) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      deleteLapsed(now)
      return claimAt(now, { sellerId, eventId, source }, true)
    })
  )

  const claimMany = Effect.fn("MetricsStore.claimMany")((claims: ReadonlyArray<Claim>) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      deleteLapsed(now)
      return claims.map((c) => claimAt(now, c, false))
    })
  )

  const release = Effect.fn("MetricsStore.release")((sellerId: string, eventId: string, source: string) =>
    Effect.sync(() => {
      const items = sellers.get(sellerId)
      const held = items?.get(claimItemPrefix + eventId)
      if (held?.source === source) held.source = releasedClaim
    })
  )

  return MetricsStore.of({
    apply,
    get,
    watermark,
    query,
    putPending,
    totalsAndPending,
    claim,
    claimMany,
    release,
    ping: Effect.void.pipe(Effect.withSpan("MetricsStore.ping"))
  })
})

/** A fresh, empty table per layer build; its claim retention from `CLAIM_RETENTION` (default 30 days). */
export const layerMemory = Layer.effect(
  MetricsStore,
  Effect.flatMap(
    claimRetentionConfig,
    (claimRetention) => make({ claimRetention })
  )
)
