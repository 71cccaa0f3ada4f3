import { Schema } from "effect"
import { ProductId, SellerId } from "./Ids.js"
import { EventType } from "./ProductEvent.js"
import { Timestamp } from "./Timestamp.js"

export const Severity = Schema.Literal("info", "urgent")
export type Severity = typeof Severity.Type

/** What a seller is told about one event. Its id is the event's id: the idempotency key. */
export class Notification extends Schema.Class<Notification>("Notification")({
  id: Schema.String,
  sellerId: SellerId,
  productId: ProductId,
  eventType: EventType,
  severity: Severity,
  title: Schema.String,
  body: Schema.String,
  occurredAt: Timestamp
}) {}

/** A notification as stored: `seq` orders a seller's notifications in the order they were consumed. */
export class StoredNotification extends Schema.Class<StoredNotification>("StoredNotification")({
  ...Notification.fields,
  seq: Schema.Int
}) {}

export const notificationChannel = (sellerId: string): string => `notifications:${sellerId}`

/** A stored notification as its JSON value (for a response body) and as JSON text (for SSE and pub/sub). */
export const storedNotificationJson = Schema.encodeSync(StoredNotification)
export const encodeStoredNotification = (notification: StoredNotification): string =>
  JSON.stringify(storedNotificationJson(notification))
export const decodeStoredNotification = Schema.decodeUnknownEither(Schema.parseJson(StoredNotification))

/**
 * A stored notification as published on pub/sub: its JSON, plus the W3C `traceparent` of the work that
 * published it where spans are exported, so that the SSE push joins the event's trace. A subscriber
 * that does not know the field ignores it; the SSE frame is encoded from the stored notification's
 * fields only (`encodeStoredNotification`), so what clients receive is the same either way.
 */
export class PublishedNotification extends StoredNotification.extend<PublishedNotification>("PublishedNotification")({
  traceparent: Schema.optional(Schema.String)
}) {}

/** The pub/sub message of a notification: with no `traceparent` (not traced), exactly `encodeStoredNotification`'s text. */
export const encodePublishedNotification = (notification: StoredNotification, traceparent: string | undefined): string =>
  traceparent === undefined
    ? encodeStoredNotification(notification)
    : JSON.stringify({ ...storedNotificationJson(notification), traceparent })
export const decodePublishedNotification = Schema.decodeUnknownEither(Schema.parseJson(PublishedNotification))
