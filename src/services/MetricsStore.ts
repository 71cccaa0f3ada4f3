import { Config, Context, Duration, Effect, type Option } from "effect"
import type { PendingMetrics, WatermarkedItem } from "../domain/PendingMetrics.js"
import { deltaItems, type Delta } from "../domain/SellerMetrics.js"
import { InfraError } from "./InfraError.js"

/**
 * The analytics hot store, in DynamoDB terms: one item per (sellerId, item), e.g. "totals",
 * "day#2026-11-26" (the day's counts and its hours', `h20#created`), whose numeric attributes are metric values.
 * In memory (`layers/MetricsStoreMemory.ts`) and on DynamoDB (table keyed by `sellerId` + `item`).
 *
 * Effectively-once without transactions: every metrics write is one conditional `UpdateItem` on one item,
 * idempotent on its own. An item remembers, per source partition, the last offset folded into it
 * (attribute `wm_p<partition>`). An update carries the offset range `[fromOffset, offset]` of the
 * records it folds, and applies (`ADD` the values, `SET wm_p<partition> = offset`) only under
 * `attribute_not_exists(wm_p<partition>) OR wm_p<partition> < fromOffset`. A redelivered range is
 * rejected by the condition: "duplicate" when it was wholly applied, "overlap" when it was partly
 * applied (batches cut differently after a crash); then nothing changed and the caller folds again
 * only the records after `watermark(...)` and applies them with `fromOffset = watermark + 1`.
 * The caller applies one partition's updates to one item in offset order (a seller's records are on
 * one partition and its lane is serial): an earlier range applied after a later one would be refused.
 */

export interface MetricsUpdate {
  readonly sellerId: string
  /** The item's sort key: "totals", "day#<yyyy-mm-dd>" (and "hour#<yyyy-mm-ddThh>", written before the day items held the hours), ... */
  readonly item: string
  /** Source partition of the records folded into `add`. */
  readonly partition: number
  /** First offset of the records folded into `add` (the batch's first, not necessarily this seller's). */
  readonly fromOffset: number
  /** Last offset of the records folded into `add`; becomes the item's watermark for the partition. */
  readonly offset: number
  /** Numeric attributes to add (negative to subtract), e.g. activeProducts, "value#EUR", "cat#home". */
  readonly add: Readonly<Record<string, number>>
}

/**
 * applied: the values were added. duplicate: the whole range was applied before; nothing changed.
 * overlap: part of the range was applied before; nothing changed (re-fold the records after the watermark).
 */
export type ApplyResult = "applied" | "duplicate" | "overlap"

/** Sort-key range, both ends inclusive, appended to the prefix: `prefix + from <= item <= prefix + to`. */
export interface ItemRange {
  readonly from: string
  readonly to: string
}

/** Attribute names the store uses itself: keys and watermarks. Metric names must avoid them. */
export const keyAttributes = { partition: "sellerId", sort: "item" } as const
export const watermarkAttribute = (partition: number): string => `wm_p${partition}`
/**
 * Sort-key prefix of the pending records (see `putPending`): `totals#pending#p<partition>`, next to the
 * totals item, so that one Query reads both (`totalsAndPending`).
 */
export const pendingItemPrefix = "totals#pending#"
export const pendingItem = (partition: number): string => `${pendingItemPrefix}p${partition}`
/** Sort-key prefix of the per-event claim items (see `claim` and `claimMany`). */
export const claimItemPrefix = "event#"
/** The holder of a released claim (a tombstone, see `release`): no record's source looks like it. */
export const releasedClaim = "released"
/** A claim item's expiry, epoch seconds: DynamoDB's TTL attribute on the table. */
export const expiresAtAttribute = "expiresAt"

/** How long a claim holds unless configured (`CLAIM_RETENTION`): an event republished within it counts once. */
export const defaultClaimRetention = Duration.days(30)
/** `CLAIM_RETENTION`, for both stores' config layers. */
export const claimRetentionConfig = Config.duration("CLAIM_RETENTION").pipe(Config.withDefault(defaultClaimRetention))
/** A store's claim retention from its options. */
export const claimRetentionOf = (options: { readonly claimRetention?: Duration.DurationInput }): Duration.Duration =>
  options.claimRetention === undefined ? defaultClaimRetention : Duration.decode(options.claimRetention)
/** The expiry (epoch seconds) of a claim made at `nowMillis`. */
export const claimExpiry = (nowMillis: number, retention: Duration.Duration): number =>
  Math.floor(nowMillis / 1000) + Math.ceil(Duration.toSeconds(retention))
/** A claim has lapsed once its expiry second has begun. */
export const claimLapsed = (expiresAt: number, nowMillis: number): boolean => expiresAt * 1000 <= nowMillis

export const isReservedAttribute = (name: string): boolean =>
  name === keyAttributes.partition || name === keyAttributes.sort || name.startsWith("wm_") || name === expiresAtAttribute

export class MetricsStoreError extends InfraError("MetricsStoreError", "metrics store") {}

export interface TotalsAndPending {
  readonly totals: ReadonlyArray<WatermarkedItem>
  readonly pending: ReadonlyArray<PendingMetrics>
}

/** One claim of `claimMany`: the event and the source record that carries it (`"<partition>:<offset>"`). */
export interface Claim {
  readonly sellerId: string
  readonly eventId: string
  readonly source: string
}

export class MetricsStore extends Context.Tag("product-events/MetricsStore")<
  MetricsStore,
  {
    /** Atomic per item, conditional on the item's watermark for the partition (see above). */
    readonly apply: (update: MetricsUpdate) => Effect.Effect<ApplyResult, MetricsStoreError>
    /** The item's metric values (watermarks and keys left out). */
    readonly get: (
      sellerId: string,
      item: string
    ) => Effect.Effect<Option.Option<Readonly<Record<string, number>>>, MetricsStoreError>
    /** The last offset of the partition applied to the item, if any. */
    readonly watermark: (
      sellerId: string,
      item: string,
      partition: number
    ) => Effect.Effect<Option.Option<number>, MetricsStoreError>
    /**
     * The seller's metric items whose key starts with the prefix (and falls in the range), sorted by key
     * (UTF-8 bytes), each with its watermarks. Claims and pending records are not metric items.
     */
    readonly query: (
      sellerId: string,
      itemPrefix: string,
      range?: ItemRange
    ) => Effect.Effect<ReadonlyArray<WatermarkedItem>, MetricsStoreError>
    /**
     * Replaces each seller's pending record of the partition (`pendingItem(partition)`), unconditionally:
     * what the hot path has read and not yet folded, for readers to add (`withPending`). On DynamoDB a
     * BatchWriteItem per 25 records; at most one record per (seller, partition) in a call.
     */
    readonly putPending: (pending: ReadonlyArray<PendingMetrics>) => Effect.Effect<void, MetricsStoreError>
    /**
     * The seller's totals item (as `query(sellerId, "totals")` answers it) and its pending records, one
     * per partition that wrote one, in one read: on DynamoDB one Query of the keys that begin with "totals".
     */
    readonly totalsAndPending: (sellerId: string) => Effect.Effect<TotalsAndPending, MetricsStoreError>
    /**
     * Claims an event for the source record that carries it (`"<partition>:<offset>"`): true when the
     * event is new or already claimed by that same record (a redelivery), false when another record
     * claimed it (the same event published twice). Makes the metrics idempotent by eventId.
     * A claim lapses after the store's claim retention (`defaultClaimRetention`): then the event may be
     * claimed anew, so claims do not pile up for ever. One item per event, `event#<eventId>`, with
     * `expiresAt`, conditional on `attribute_not_exists OR source = :source OR expiresAt <= :now`;
     * on DynamoDB `expiresAt` is the table's TTL attribute, so lapsed claims are also deleted.
     * One write request a claim: for callers without the precondition of `claimMany`.
     */
    readonly claim: (sellerId: string, eventId: string, source: string) => Effect.Effect<boolean, MetricsStoreError>
    /**
     * The claims in one go, each answered as `claim` would answer it were they made one after another in
     * the order given: within a call, the first claim of an event wins, a later claim of it by the same
     * source is true, by another source false. Unlike `claim`, a claim found held by the same source is
     * left as it is (its expiry is not renewed). On DynamoDB: a consistent BatchGetItem per 100 claims
     * reads the claim items (lapsed ones count as absent), then the new claims are put unconditionally,
     * a BatchWriteItem per 25 (BatchWriteItem takes no condition); claims found held are not written.
     *
     * Precondition (what makes the unconditional puts safe; callers without it use `claim`): every record
     * of an event is on one partition, and the caller claims that partition's records in offset order,
     * one call at a time, each call's claims written before the next call's are read. The hot path does:
     * an event's records are keyed by sellerId, so on one partition; a partition's batches are claimed
     * one after another in offset order, a batch's claims before its metrics are applied and before its
     * offsets can be committed. Then two writers that both find an event's claim absent (after a
     * rebalance, the old owner still applying a batch that the new owner reads again from the last
     * committed offset) claim it for the same record, so put the same source; and a later record of
     * the same event is claimed only after the earlier record's claim was written, so finds it, by
     * either owner. So a put never replaces another record's live claim: what `claim`'s condition
     * enforces, the order ensures.
     * A released claim (`release`, its batch dead-lettered) breaks that order: a later record of the
     * event may be claimed by one owner while the other re-reads the released one. So a released claim
     * is a tombstone, claimed again only as `claim` does, conditionally: one record wins it.
     */
    readonly claimMany: (claims: ReadonlyArray<Claim>) => Effect.Effect<ReadonlyArray<boolean>, MetricsStoreError>
    /**
     * Gives up the source record's claim on an event (the record was dead-lettered, so a replay of the
     * event, at another offset, must be able to claim it). A claim held by another source is left alone.
     * The claim item stays, held by `releasedClaim` until it lapses: claimable again, conditionally.
     */
    readonly release: (sellerId: string, eventId: string, source: string) => Effect.Effect<void, MetricsStoreError>
    /** Reachable and serving: for readiness probes. */
    readonly ping: Effect.Effect<void, MetricsStoreError>
  }
>() {}

/** The offset range of the records a delta folds: the store's idempotency condition. */
export interface SourceRange {
  readonly partition: number
  readonly fromOffset: number
  readonly offset: number
}

/** The `apply` inputs of a seller's delta, one per item, sorted by item key. */
export const toStoreUpdates = (sellerId: string, delta: Delta, range: SourceRange): ReadonlyArray<MetricsUpdate> =>
  deltaItems(delta).map(({ item, values }) => ({
    sellerId,
    item,
    partition: range.partition,
    fromOffset: range.fromOffset,
    offset: range.offset,
    add: values
  }))

/** An update no implementation may accept: a bug in the caller, hence a defect. */
export const checkUpdate = (update: MetricsUpdate): Effect.Effect<void> => {
  const { fromOffset, offset, partition } = update
  if (![fromOffset, offset, partition].every((n) => Number.isSafeInteger(n) && n >= 0) || fromOffset > offset) {
    return Effect.dieMessage(`MetricsStore.apply: invalid partition/offset range ${partition}:[${fromOffset}, ${offset}]`)
  }
  const reserved = Object.keys(update.add).filter(isReservedAttribute)
  if (reserved.length > 0) return Effect.dieMessage(`MetricsStore.apply: reserved attribute names ${reserved.join(", ")}`)
  return Effect.void
}
