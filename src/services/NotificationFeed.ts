import { Effect, Either, Option, Ref, Stream } from "effect"
import { decodeStoredNotification, notificationChannel, type StoredNotification } from "../domain/Notification.js"
import { NotificationStore } from "./NotificationStore.js"
import { PubSub } from "./PubSub.js"

const pageSize = 100

/**
 * A seller's notifications as one ordered stream: those after `lastEventId` replayed from the
 * store, then live ones from pub/sub, with no gap and no duplicate at the seam.
 *
 * The live subscription is opened before the store is read, so nothing published meanwhile is
 * missed; `seq` (the store's per-seller order) drops what the replay already sent. A live
 * notification that skips ahead of the last sent `seq` (a message dropped by a slow subscriber's
 * buffer) is preceded by the missing ones read back from the store.
 */
export class NotificationFeed extends Effect.Service<NotificationFeed>()("product-events/NotificationFeed", {
  effect: Effect.gen(function*() {
    const store = yield* NotificationStore
    const pubsub = yield* PubSub

    /** Stored notifications with afterSeq < seq < beforeSeq, ascending, page by page. */
    const range = (sellerId: string, afterSeq: number, beforeSeq?: number) =>
      Stream.paginateEffect(afterSeq, (after) =>
        store.list(sellerId, { afterSeq: after, limit: pageSize, order: "asc", ...(beforeSeq === undefined ? {} : { beforeSeq }) })
          .pipe(Effect.map((page) => [page, page.length === pageSize ? Option.some(page[page.length - 1]!.seq) : Option.none()] as const))
      ).pipe(Stream.flattenIterables)

    const startSeq = (sellerId: string, lastEventId: Option.Option<string>) =>
      Option.match(lastEventId, {
        // Unknown ids replay from the start: the client may have seen nothing we know of.
        onSome: (id) => Effect.map(store.get(sellerId, id), Option.match({ onNone: () => 0, onSome: (n) => n.seq })),
        onNone: () =>
          Effect.map(store.list(sellerId, { limit: 1, order: "desc" }), (latest) => latest[0]?.seq ?? 0)
      })

    /**
     * Subscribes (in the caller's scope) and reads where to start, then returns the stream:
     * whatever is published once `open` has returned is in it.
     */
    const open = (sellerId: string, lastEventId: Option.Option<string>) =>
      Effect.gen(function*() {
        const live = yield* pubsub.subscribe(notificationChannel(sellerId))
        const start = yield* startSeq(sellerId, lastEventId)
        const sent = yield* Ref.make(start)
        const markSent = <E>(notifications: Stream.Stream<StoredNotification, E>) =>
          Stream.tap(notifications, (n) => Ref.set(sent, n.seq))
        const replay = Option.isSome(lastEventId) ? range(sellerId, start) : Stream.empty
        const liveInOrder = live.pipe(
          Stream.filterMap((message) => Either.getRight(decodeStoredNotification(message))),
          Stream.filter((n) => n.sellerId === sellerId),
          Stream.flatMap((n) =>
            Stream.unwrap(Effect.map(Ref.get(sent), (last) =>
              n.seq <= last
                ? Stream.empty
                : n.seq === last + 1
                ? Stream.make(n)
                : Stream.concat(range(sellerId, last, n.seq), Stream.make(n))
            )).pipe(markSent)
          )
        )
        return Stream.concat(replay.pipe(markSent), liveInOrder)
      })

    const feed = (sellerId: string, lastEventId: Option.Option<string>) => Stream.unwrapScoped(open(sellerId, lastEventId))

    return { open, feed } as const
  })
}) {}
