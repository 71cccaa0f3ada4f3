import { Clock, Duration, Effect, Exit, Layer, Option } from "effect"
import { type Notification, StoredNotification } from "../domain/Notification.js"
import * as Store from "../services/NotificationStore.js"

interface Entry {
  readonly notification: StoredNotification
  readonly contentHash: string | undefined
  /** Epoch seconds, as the DynamoDB item's TTL attribute. */
  readonly expiresAt: number
}

/** One seller's partition of the table: the seq counter item, the items by id, and the seq index. */
interface SellerNotifications {
  lastSeq: number
  readonly byId: Map<string, Entry>
  /** Ascending by seq (puts append, seqs only grow), so also by expiry: expired entries are a prefix. */
  bySeq: Array<Entry>
}

/** First index in `bySeq` whose seq is greater than `seq` (binary search). */
const indexAfter = (bySeq: ReadonlyArray<Entry>, seq: number): number => {
  let lo = 0
  let hi = bySeq.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (bySeq[mid]!.notification.seq <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Drops the seller's expired notifications (a prefix of `bySeq`), as DynamoDB's TTL deletes them. */
const dropExpired = (seller: SellerNotifications, now: number) => {
  let expired = 0
  while (expired < seller.bySeq.length && Store.notificationExpired(seller.bySeq[expired]!.expiresAt, now)) expired++
  if (expired === 0) return
  for (const entry of seller.bySeq.slice(0, expired)) {
    if (seller.byId.get(entry.notification.id) === entry) seller.byId.delete(entry.notification.id)
  }
  seller.bySeq = seller.bySeq.slice(expired)
}

export interface MemoryOptions {
  /** How long a notification is kept. Default 30 days. */
  readonly retention?: Duration.DurationInput
}

/**
 * Every operation is one synchronous step on the maps, so each is atomic as a DynamoDB
 * conditional write is; puts and range reads cost O(log n) plus what they return.
 */
export const make = (options: MemoryOptions = {}) =>
  Effect.sync(() => {
    const retention = options.retention === undefined ? Store.defaultNotificationRetention : Duration.decode(options.retention)
    const sellers = new Map<string, SellerNotifications>()
    /** The seller's notifications that have not expired at `now`. */
    const sellerAt = (sellerId: string, now: number): SellerNotifications | undefined => {
      const seller = sellers.get(sellerId)
      if (seller !== undefined) dropExpired(seller, now)
      return seller
    }

    const putAt = (notification: Notification, contentHash: string | undefined, now: number): Store.PutResult => {
      let seller = sellerAt(notification.sellerId, now)
      if (seller === undefined) {
        seller = { lastSeq: 0, byId: new Map(), bySeq: [] }
        sellers.set(notification.sellerId, seller)
      }
      const existing = seller.byId.get(notification.id)
      if (existing !== undefined) {
        return { notification: existing.notification, created: false, conflict: Store.isConflict(existing.contentHash, contentHash) }
      }
      const entry = {
        notification: StoredNotification.make({ ...notification, seq: seller.lastSeq + 1 }),
        contentHash,
        expiresAt: Store.notificationExpiry(now, retention)
      }
      seller.lastSeq = entry.notification.seq
      seller.byId.set(notification.id, entry)
      seller.bySeq.push(entry)
      return { notification: entry.notification, created: true, conflict: false }
    }

    const put = Effect.fn("NotificationStore.put")((notification: Notification, contentHash?: string) =>
      Effect.map(Clock.currentTimeMillis, (now) => putAt(notification, contentHash, now))
    )

    const putMany = Effect.fn("NotificationStore.putMany")(
      (notifications: ReadonlyArray<Notification>, contentHashes?: ReadonlyArray<string | undefined>, skip?: (index: number) => boolean) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const skipped = new Set<string>()
          return notifications.map((notification, i) => {
            // As on DynamoDB: `skip` is asked of a notification to be written, not of one stored already.
            const isNew = sellerAt(notification.sellerId, now)?.byId.has(notification.id) !== true
            if (skipped.has(notification.sellerId) || (isNew && skip?.(i) === true)) {
              skipped.add(notification.sellerId)
              return undefined
            }
            return Exit.succeed(putAt(notification, contentHashes?.[i], now))
          })
        })
    )

    const get = Effect.fn("NotificationStore.get")((sellerId: string, id: string) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        Option.fromNullable(sellerAt(sellerId, now)?.byId.get(id)).pipe(Option.map((entry) => entry.notification))
      )
    )

    const list = Effect.fn("NotificationStore.list")((sellerId: string, options: Store.ListOptions) =>
      Effect.map(Clock.currentTimeMillis, (now): ReadonlyArray<StoredNotification> => {
        const bySeq = sellerAt(sellerId, now)?.bySeq ?? []
        if (options.limit <= 0) return []
        const from = options.afterSeq === undefined ? 0 : indexAfter(bySeq, options.afterSeq)
        const to = options.beforeSeq === undefined ? bySeq.length : indexAfter(bySeq, options.beforeSeq - 1)
        if (from >= to) return []
        const page = options.order === "asc"
          ? bySeq.slice(from, Math.min(to, from + options.limit))
          : bySeq.slice(Math.max(from, to - options.limit), to).reverse()
        return page.map((entry) => entry.notification)
      })
    )

    return Store.NotificationStore.of({
      put,
      putMany,
      get,
      list,
      // Each seq is drawn as it is assigned: none is held ahead.
      forgetDrawnSeqs: Effect.void,
      ping: Effect.void.pipe(Effect.withSpan("NotificationStore.ping"))
    })
  })

/** A fresh, empty store per layer build; its retention from `NOTIFICATION_RETENTION` (default 30 days). */
export const layerMemory = Layer.effect(
  Store.NotificationStore,
  Effect.flatMap(Store.notificationRetentionConfig, (retention) => make({ retention }))
)
