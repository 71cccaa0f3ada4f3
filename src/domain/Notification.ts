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
