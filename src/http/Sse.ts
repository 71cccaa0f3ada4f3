import { type Duration, Schedule, Stream } from "effect"
import { encodeStoredNotification, type StoredNotification } from "../domain/Notification.js"

/** One SSE frame: `id` is the eventId, so a reconnecting browser sends it back as Last-Event-ID. */
export const notificationFrame = (n: StoredNotification): string =>
  `id: ${n.id}\nevent: ${n.eventType}\ndata: ${encodeStoredNotification(n)}\n\n`

export const heartbeatFrame = ": heartbeat\n\n"

/**
 * The text of an SSE response: a reconnection delay hint, the notification frames, and a
 * heartbeat comment every `heartbeat` so that proxies keep the connection open while it is quiet.
 */
export const sseBody = <E, R>(
  notifications: Stream.Stream<StoredNotification, E, R>,
  options: { readonly heartbeat: Duration.DurationInput; readonly retryMillis: number }
): Stream.Stream<string, E, R> =>
  Stream.make(`retry: ${options.retryMillis}\n\n`).pipe(
    Stream.concat(
      Stream.merge(
        Stream.map(notifications, notificationFrame),
        Stream.fromSchedule(Schedule.spaced(options.heartbeat)).pipe(Stream.as(heartbeatFrame)),
        { haltStrategy: "left" }
      )
    )
  )
