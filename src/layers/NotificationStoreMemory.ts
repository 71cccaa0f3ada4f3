import { Effect, Exit, Layer, Option } from "effect"
import { type Notification, StoredNotification } from "../domain/Notification.js"
import { type ListOptions, NotificationStore, type PutResult } from "../services/NotificationStore.js"

/** One seller's partition of the table: the seq counter item, the items by id, and the seq index. */
interface SellerNotifications {
  lastSeq: number
  readonly byId: Map<string, StoredNotification>
  /** Ascending by seq (puts append, seqs only grow). */
  readonly bySeq: Array<StoredNotification>
}

/** First index in `bySeq` whose seq is greater than `seq` (binary search). */
const indexAfter = (bySeq: ReadonlyArray<StoredNotification>, seq: number): number => {
  let lo = 0
  let hi = bySeq.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (bySeq[mid]!.seq <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Every operation is one synchronous step on the maps, so each is atomic as a DynamoDB
 * conditional write is; puts and range reads cost O(log n) plus what they return.
 */
export const make = Effect.sync(() => {
  const sellers = new Map<string, SellerNotifications>()
  const sellerOf = (sellerId: string): SellerNotifications | undefined => sellers.get(sellerId)

  const putNow = (notification: Notification): PutResult => {
      let seller = sellers.get(notification.sellerId)
      if (seller === undefined) {
        seller = { lastSeq: 0, byId: new Map(), bySeq: [] }
        sellers.set(notification.sellerId, seller)
      }
      const existing = seller.byId.get(notification.id)
      if (existing !== undefined) return { notification: existing, created: false }
      const stored = StoredNotification.make({ ...notification, seq: seller.lastSeq + 1 })
      seller.lastSeq = stored.seq
      seller.byId.set(stored.id, stored)
      seller.bySeq.push(stored)
      return { notification: stored, created: true }
  }
  const put = Effect.fn("NotificationStore.put")((notification: Notification) => Effect.sync(() => putNow(notification)))
  const putMany = Effect.fn("NotificationStore.putMany")((notifications: ReadonlyArray<Notification>) =>
    Effect.sync(() => notifications.map((notification) => Exit.succeed(putNow(notification))))
  )

  const get = Effect.fn("NotificationStore.get")((sellerId: string, id: string) =>
    Effect.sync(() => Option.fromNullable(sellerOf(sellerId)?.byId.get(id)))
  )

  const list = Effect.fn("NotificationStore.list")((sellerId: string, options: ListOptions) =>
    Effect.sync((): ReadonlyArray<StoredNotification> => {
      const bySeq = sellerOf(sellerId)?.bySeq ?? []
      if (options.limit <= 0) return []
      const from = options.afterSeq === undefined ? 0 : indexAfter(bySeq, options.afterSeq)
      const to = options.beforeSeq === undefined ? bySeq.length : indexAfter(bySeq, options.beforeSeq - 1)
      if (from >= to) return []
      return options.order === "asc"
        ? bySeq.slice(from, Math.min(to, from + options.limit))
        : bySeq.slice(Math.max(from, to - options.limit), to).reverse()
    })
  )

  return NotificationStore.of({ put, putMany, get, list, ping: Effect.void.pipe(Effect.withSpan("NotificationStore.ping")) })
})

/** A fresh, empty store per layer build. */
export const layerMemory = Layer.effect(NotificationStore, make)
