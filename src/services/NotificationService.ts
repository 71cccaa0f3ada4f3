import { Effect, Exit } from "effect"
import { encodeStoredNotification, notificationChannel } from "../domain/Notification.js"
import { toNotification } from "../domain/Notify.js"
import type { ProductEvent } from "../domain/ProductEvent.js"
import type { ChunkItem, ChunkResults } from "./ConsumerEngine.js"
import { NotificationStore, type NotificationStoreError } from "./NotificationStore.js"
import { type ChannelMessage, PubSub, type PubSubError } from "./PubSub.js"

/**
 * notification-service's handler: event -> notification, stored idempotently, then published.
 * A redelivered event finds its notification stored already and publishes it again (the crash
 * may have come between the two); subscribers drop what they have seen by `seq`.
 * `handleChunk` does the same for a lane's chunk: one batched store write (each seller in order),
 * then every stored notification published in one pipeline, in order.
 */
export class NotificationService extends Effect.Service<NotificationService>()("product-events/NotificationService", {
  effect: Effect.gen(function*() {
    const store = yield* NotificationStore
    const pubsub = yield* PubSub
    const handle = Effect.fn("NotificationService.handle")(function*(event: ProductEvent) {
      const { notification } = yield* store.put(toNotification(event))
      yield* pubsub.publish(notificationChannel(notification.sellerId), encodeStoredNotification(notification))
    })
    const handleChunk = Effect.fn("NotificationService.handleChunk")(function*(items: ReadonlyArray<ChunkItem>) {
      const puts = yield* store.putMany(items.map((item) => toNotification(item.event)))
      const messages: Array<ChannelMessage> = []
      for (const put of puts) {
        if (put !== undefined && Exit.isSuccess(put)) {
          const { notification } = put.value
          messages.push({ channel: notificationChannel(notification.sellerId), message: encodeStoredNotification(notification) })
        }
      }
      const published = yield* Effect.exit(pubsub.publishMany(messages))
      return firstFailurePerSeller(items, puts, published)
    })
    return { handle, handleChunk } as const
  })
}) {}

/**
 * The chunk's results: a stored notification is done once published; a seller's first failure
 * (store or publish) is its result, and its later records stay unattempted.
 */
const firstFailurePerSeller = (
  items: ReadonlyArray<ChunkItem>,
  puts: ReadonlyArray<Exit.Exit<unknown, NotificationStoreError> | undefined>,
  published: Exit.Exit<void, PubSubError>
): ChunkResults<NotificationStoreError | PubSubError> => {
  let failed: Set<string> | undefined
  return items.map((item, i) => {
    const seller = item.event.data.sellerId
    const put = puts[i]
    if (put === undefined || failed?.has(seller)) return undefined
    const result: Exit.Exit<unknown, NotificationStoreError | PubSubError> = Exit.isFailure(put) ? put : published
    if (Exit.isFailure(result)) (failed ??= new Set()).add(seller)
    return Exit.asVoid(result)
  })
}
