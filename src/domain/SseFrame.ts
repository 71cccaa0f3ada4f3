// Server-sent event frames of the notification stream: text, and the bytes every subscriber writes.
import { encodeStoredNotification, type StoredNotification } from "./Notification.js"

/** One SSE frame: `id` is the eventId, so a reconnecting browser sends it back as Last-Event-ID. */
export const notificationFrame = (n: StoredNotification): string =>
  `id: ${n.id}\nevent: ${n.eventType}\ndata: ${encodeStoredNotification(n)}\n\n`

export const heartbeatFrame = ": heartbeat\n\n"

/** The last frame of a stream whose token expired: a comment saying why, before the response ends. */
export const tokenExpiredFrame = ": token expired: reconnect with a fresh token (and Last-Event-ID)\n\n"

/** The first bytes of a stream: how long a client waits before it reconnects. */
export const retryFrame = (retryMillis: number): string => `retry: ${retryMillis}\n\n`

const encoder = new TextEncoder()

/** A frame as the bytes every subscriber of the seller writes (encoded once per notification). */
export const frameBytes = (frame: string): Uint8Array => encoder.encode(frame)
