import { Effect, Option, Queue, Stream, Take } from "effect"
import type { StoredNotification } from "../domain/Notification.js"
import { NotificationHub, type StreamLimitReached } from "./NotificationHub.js"
import type { NotificationStoreError } from "./NotificationStore.js"
import type { PubSubError } from "./PubSub.js"

/** Notifications a stream reader may leave unread before its stream ends (it resumes from the last id). */
const maxUnread = 10_000

/**
 * A seller's notifications as one ordered stream, for readers in this process: those after
 * `lastEventId` replayed from the store, then live ones through the hub, with no gap and no duplicate
 * at the seam (see `NotificationHub.serve`). A reader that falls `maxUnread` behind sees its stream end.
 */
export class NotificationFeed extends Effect.Service<NotificationFeed>()("product-events/NotificationFeed", {
  effect: Effect.gen(function*() {
    const hub = yield* NotificationHub

    /**
     * Subscribes (in the caller's scope) and reads where to start, then returns the stream:
     * whatever is published once `open` has returned is in it.
     */
    const open = (sellerId: string, lastEventId: Option.Option<string>) =>
      Effect.gen(function*() {
        const queue = yield* Queue.unbounded<Take.Take<StoredNotification>>()
        const sink = {
          write: (frame: { readonly notification: StoredNotification }) => queue.unsafeOffer(Take.of(frame.notification)),
          heartbeat: () => {},
          full: () => Option.getOrElse(queue.unsafeSize(), () => 0) >= maxUnread,
          whenWritable: Effect.void,
          end: () => queue.unsafeOffer(Take.end),
          expire: () => queue.unsafeOffer(Take.end)
        }
        yield* Effect.acquireRelease(hub.open(sellerId, lastEventId, sink), (subscription) => subscription.close)
        return Stream.fromQueue(queue).pipe(Stream.flattenTake)
      })

    const feed = (
      sellerId: string,
      lastEventId: Option.Option<string>
    ): Stream.Stream<StoredNotification, NotificationStoreError | PubSubError | StreamLimitReached> =>
      Stream.unwrapScoped(open(sellerId, lastEventId))

    return { open, feed } as const
  }),
  dependencies: [NotificationHub.Default]
}) {}
