import { Effect } from "effect"
import { encodeStoredNotification, notificationChannel } from "../domain/Notification.js"
import { toNotification } from "../domain/Notify.js"
import type { ProductEvent } from "../domain/ProductEvent.js"
import { NotificationStore } from "./NotificationStore.js"
import { PubSub } from "./PubSub.js"

/**
 * notification-service's handler: event -> notification, stored idempotently, then published.
 * A redelivered event finds its notification stored already and publishes it again (the crash
 * may have come between the two); subscribers drop what they have seen by `seq`.
 */
export class NotificationService extends Effect.Service<NotificationService>()("product-events/NotificationService", {
  effect: Effect.gen(function*() {
    const store = yield* NotificationStore
    const pubsub = yield* PubSub
    const handle = Effect.fn("NotificationService.handle")(function*(event: ProductEvent) {
      const { notification } = yield* store.put(toNotification(event))
      yield* pubsub.publish(notificationChannel(notification.sellerId), encodeStoredNotification(notification))
    })
    return { handle } as const
  })
}) {}
