import { Effect, Layer, Option, Ref } from "effect"
import { type Notification, StoredNotification } from "../domain/Notification.js"
import { type ListOptions, NotificationStore, type PutResult } from "../services/NotificationStore.js"

/** One seller's partition of the table: the seq counter item, the items by id, and the seq index. */
interface SellerNotifications {
  readonly lastSeq: number
  readonly byId: ReadonlyMap<string, StoredNotification>
  /** Ascending by seq (puts append, seqs only grow). */
  readonly bySeq: ReadonlyArray<StoredNotification>
}

const emptySeller: SellerNotifications = { lastSeq: 0, byId: new Map(), bySeq: [] }

export const make = Effect.gen(function*() {
  const sellers = yield* Ref.make<ReadonlyMap<string, SellerNotifications>>(new Map())
  const sellerOf = (sellerId: string) =>
    Effect.map(Ref.get(sellers), (all) => all.get(sellerId) ?? emptySeller)

  const put = Effect.fn("NotificationStore.put")((notification: Notification) =>
    Ref.modify(sellers, (all): readonly [PutResult, ReadonlyMap<string, SellerNotifications>] => {
      const seller = all.get(notification.sellerId) ?? emptySeller
      const existing = seller.byId.get(notification.id)
      if (existing !== undefined) return [{ notification: existing, created: false }, all]
      const stored = StoredNotification.make({ ...notification, seq: seller.lastSeq + 1 })
      const next = new Map(all).set(notification.sellerId, {
        lastSeq: stored.seq,
        byId: new Map(seller.byId).set(stored.id, stored),
        bySeq: [...seller.bySeq, stored]
      })
      return [{ notification: stored, created: true }, next]
    })
  )

  const get = Effect.fn("NotificationStore.get")((sellerId: string, id: string) =>
    Effect.map(sellerOf(sellerId), (seller) => Option.fromNullable(seller.byId.get(id)))
  )

  const list = Effect.fn("NotificationStore.list")((sellerId: string, options: ListOptions) =>
    Effect.map(sellerOf(sellerId), (seller): ReadonlyArray<StoredNotification> => {
      if (options.limit <= 0) return []
      const inRange = seller.bySeq.filter((n) =>
        (options.afterSeq === undefined || n.seq > options.afterSeq) &&
        (options.beforeSeq === undefined || n.seq < options.beforeSeq)
      )
      const ordered = options.order === "asc" ? inRange : [...inRange].reverse()
      return ordered.slice(0, options.limit)
    })
  )

  return NotificationStore.of({ put, get, list, ping: Effect.void.pipe(Effect.withSpan("NotificationStore.ping")) })
})

/** A fresh, empty store per layer build. */
export const layerMemory = Layer.effect(NotificationStore, make)
