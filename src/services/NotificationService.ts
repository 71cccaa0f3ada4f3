import { Data, Effect, Exit } from "effect"
import { createHash } from "node:crypto"
import { encodePublishedNotification, notificationChannel, type StoredNotification } from "../domain/Notification.js"
import { toNotification } from "../domain/Notify.js"
import type { ProductEvent } from "../domain/ProductEvent.js"
import { formatTraceparent, traceparentHeader } from "../domain/TraceContext.js"
import type { ChunkItem, ChunkResults } from "./ConsumerEngine.js"
import type { LogRecord } from "./EventLog.js"
import { NotificationStore, type NotificationStoreError, type PutResult } from "./NotificationStore.js"
import { type ChannelMessage, PubSub, type PubSubError } from "./PubSub.js"
import { type EventContexts, eventContexts } from "./SpanExport.js"

/**
 * An eventId consumed before with other content: a producer reused it for another event. The first
 * version stands; this one is dead-lettered with reason `conflict`, never retried.
 */
export class EventConflict extends Data.TaggedError("EventConflict")<{ readonly eventId: string }> {
  readonly retriable = false
  readonly deadLetterReason = "conflict"
  override get message() {
    return `eventId ${this.eventId} was consumed before with other content: the first version stands`
  }
}

/** What a record's value is, for telling a redelivery (same bytes) from a conflict: 128 bits of SHA-256. */
export const contentHash = (record: LogRecord): string =>
  createHash("sha256").update(record.value).digest("base64url").slice(0, 22)

const conflictOf = (put: PutResult) =>
  new EventConflict({ eventId: put.notification.id }).pipe(
    Effect.tapError((e) => Effect.logWarning(e.message).pipe(Effect.annotateLogs({ sellerId: put.notification.sellerId })))
  )

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
    /** `record`, when given, tells a redelivery from a conflicting event under the same eventId. */
    const handle = Effect.fn("NotificationService.handle")(function*(event: ProductEvent, record?: LogRecord) {
      const put = yield* store.put(toNotification(event), record === undefined ? undefined : contentHash(record))
      if (put.conflict) return yield* conflictOf(put)
      const { notification } = put
      yield* pubsub.publish(notificationChannel(notification.sellerId), messageOf(notification, yield* eventContexts, record))
    })
    /**
     * `dropped` (the item's partition was revoked meanwhile) is asked as each write comes: a dropped
     * item is neither written nor published (`null`), nor are its seller's later ones; the new owner
     * of the partition handles them.
     */
    const handleChunk = Effect.fn("NotificationService.handleChunk")(function*(
      items: ReadonlyArray<ChunkItem>,
      dropped: (item: ChunkItem) => boolean = () => false
    ) {
      const stored = yield* store.putMany(
        items.map((item) => toNotification(item.event)),
        items.map((item) => contentHash(item.record)),
        (i) => dropped(items[i]!)
      )
      // Asked once more after the writes: a partition revoked meanwhile publishes nothing.
      const gone = items.map(dropped)
      const puts: Array<Exit.Exit<unknown, NotificationStoreError | EventConflict> | undefined> = []
      const messages: Array<ChannelMessage> = []
      const contexts = yield* eventContexts
      for (let i = 0; i < stored.length; i++) {
        const put = stored[i]
        if (put !== undefined && Exit.isSuccess(put) && put.value.conflict) {
          puts.push(yield* Effect.exit(conflictOf(put.value)))
          continue
        }
        puts.push(put)
        if (put !== undefined && Exit.isSuccess(put) && !gone[i]) {
          const { notification } = put.value
          messages.push({ channel: notificationChannel(notification.sellerId), message: messageOf(notification, contexts, items[i]!.record) })
        }
      }
      const published = yield* Effect.exit(pubsub.publishMany(messages))
      return firstFailurePerSeller(items, puts, published).map((result, i) => (gone[i] ? null : result))
    })
    /** The consumer's partitions moved (assigned or revoked): seqs drawn ahead may be stale for another owner's. */
    const partitionsMoved = store.forgetDrawnSeqs
    return { handle, handleChunk, partitionsMoved } as const
  })
}) {}

/**
 * The pub/sub message of a notification: where spans are exported, with the `traceparent` of the span it
 * was handled in, or of its event's producer when that span is of another trace (`eventContext`).
 */
const messageOf = (notification: StoredNotification, contexts: EventContexts | undefined, record: LogRecord | undefined): string => {
  const context = contexts?.(record?.headers[traceparentHeader])
  return encodePublishedNotification(notification, context === undefined ? undefined : formatTraceparent(context))
}

/**
 * The chunk's results: a stored notification is done once published; a seller's first failure
 * (store or publish) is its result, and its later records stay unattempted.
 */
const firstFailurePerSeller = (
  items: ReadonlyArray<ChunkItem>,
  puts: ReadonlyArray<Exit.Exit<unknown, NotificationStoreError | EventConflict> | undefined>,
  published: Exit.Exit<void, PubSubError>
): ChunkResults<NotificationStoreError | PubSubError | EventConflict> => {
  let failed: Set<string> | undefined
  return items.map((item, i) => {
    const seller = item.event.data.sellerId
    const put = puts[i]
    if (put === undefined || failed?.has(seller)) return undefined
    const result: Exit.Exit<unknown, NotificationStoreError | PubSubError | EventConflict> = Exit.isFailure(put) ? put : published
    if (Exit.isFailure(result)) (failed ??= new Set()).add(seller)
    return Exit.asVoid(result)
  })
}
