import { type Chunk, Effect, Either, Tracer } from "effect"
import type { PublishedNotification, StoredNotification } from "../../domain/Notification.js"
import { parseTraceparent } from "../../domain/TraceContext.js"
import { exportsSpans } from "../SpanExport.js"

/** How a channel's messages reach its subscribers: decoded once, then one frame written to all. */
export interface Fanout {
  readonly sellerId: string
  readonly channel: string
  /** The message's notification, or undefined when it is not one of this seller's. */
  readonly decode: (message: string) => StoredNotification | undefined
  /** `decode`, with the message's `traceparent` (a decoding that costs a little more: only where spans are exported). */
  readonly decodeTraced: (message: string) => PublishedNotification | undefined
  /** Writes the notification's frame to every subscriber of the seller. */
  readonly push: (notification: StoredNotification) => void
  readonly subscribers: () => number
}

/** A decoded message's notification if it is one of the seller's (a channel carries its seller's only). */
export const ofSeller = <A extends StoredNotification, E>(sellerId: string, decoded: Either.Either<A, E>): A | undefined =>
  Either.isLeft(decoded) || decoded.right.sellerId !== sellerId ? undefined : decoded.right

/**
 * Delivers a chunk of a channel's messages. Where spans are exported, each push of a message that
 * carries a `traceparent` is a span `NotificationHub.push`, a child of the span that published it, so
 * the SSE push is in the event's trace. Otherwise the loop is plain code: the tracer is looked up once
 * per chunk, and a message costs what it did without tracing.
 */
export const deliver = (fanout: Fanout) => (messages: Chunk.Chunk<string>): Effect.Effect<void> =>
  Effect.tracerWith((tracer) =>
    exportsSpans(tracer)
      ? Effect.forEach(messages, (message) => traced(fanout, message), { discard: true })
      : Effect.sync(() => {
        for (const message of messages) {
          const notification = fanout.decode(message)
          if (notification !== undefined) fanout.push(notification)
        }
      })
  )

const traced = (fanout: Fanout, message: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    const notification = fanout.decodeTraced(message)
    if (notification === undefined) return Effect.void
    const parent = parseTraceparent(notification.traceparent)
    const push = Effect.sync(() => fanout.push(notification))
    if (parent === undefined) return push
    return Effect.withSpan(push, "NotificationHub.push", {
      kind: "consumer",
      parent: Tracer.externalSpan(parent),
      attributes: {
        seller: fanout.sellerId,
        subscribers: fanout.subscribers(),
        "messaging.system": "redis",
        "messaging.operation.type": "process",
        "messaging.destination.name": fanout.channel,
        "messaging.message.id": notification.id
      }
    })
  })
