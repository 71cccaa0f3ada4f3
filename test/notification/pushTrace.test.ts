import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Option, Stream, Tracer } from "effect"
import {
  decodePublishedNotification,
  decodeStoredNotification,
  encodePublishedNotification,
  encodeStoredNotification,
  notificationChannel,
  StoredNotification
} from "../../src/domain/Notification.js"
import { toNotification } from "../../src/domain/Notify.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import * as NotificationStoreMemory from "../../src/layers/NotificationStoreMemory.js"
import * as PubSubMemory from "../../src/layers/PubSubMemory.js"
import type { ChunkItem } from "../../src/services/ConsumerEngine.js"
import type { Frame, Sink } from "../../src/services/hub/Subscriber.js"
import { frameOf, NotificationHub } from "../../src/services/NotificationHub.js"
import { NotificationService } from "../../src/services/NotificationService.js"
import { PubSub } from "../../src/services/PubSub.js"
import { created } from "../support/events.js"
import { recordingTracer, traceparentOf } from "../support/recordingTracer.js"

/**
 * The SSE push in the event's trace: the notification is published with the `traceparent` of the span
 * that handled its event, and the hub's fan-out of it is a span `NotificationHub.push` in that trace,
 * where spans are exported. What clients receive is the same either way; nothing is added otherwise.
 */

const stack = Layer.mergeAll(NotificationHub.Default, NotificationService.Default).pipe(
  Layer.provideMerge(Layer.mergeAll(NotificationStoreMemory.layerMemory, PubSubMemory.layerMemory))
)

const itemOf = (event: ProductEvent, traceparent: string): ChunkItem => ({
  event,
  record: { topic: "product-events", partition: 0, offset: 0, key: event.data.sellerId, value: new TextEncoder().encode(event.eventId), headers: { traceparent }, timestamp: 0 },
  defer: () => () => {}
})

const client = () => {
  const frames: Array<Frame> = []
  const sink: Sink = {
    write: (frame) => void frames.push(frame),
    heartbeat: () => {},
    full: () => false,
    whenWritable: Effect.void,
    end: () => {},
    expire: () => {}
  }
  return { sink, frames }
}

const settle = (done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !done(); i++) yield* Effect.yieldNow()
  })

/** The raw messages of a seller's channel, as another process's subscriber sees them. */
const rawMessages = (sellerId: string) =>
  Effect.gen(function*() {
    const pubsub = yield* PubSub
    const messages: Array<string> = []
    const stream = yield* pubsub.subscribe(notificationChannel(sellerId))
    yield* Effect.forkScoped(Stream.runForEach(stream, (m) => Effect.sync(() => messages.push(m))))
    return messages
  })

describe("the published notification's trace context", () => {
  const stored = StoredNotification.make({ ...toNotification(created("s1", "lamp")), seq: 7 })
  const traceparent = traceparentOf("a", "1")

  it("untraced: the stored notification's JSON, as before", () => {
    expect(encodePublishedNotification(stored, undefined)).toBe(encodeStoredNotification(stored))
  })

  it("traced: carried through pub/sub, read by old and new subscribers, and left out of the SSE frame", () => {
    const message = encodePublishedNotification(stored, traceparent)
    const decoded = decodePublishedNotification(message)
    expect(Either.map(decoded, (n) => n.traceparent)).toEqual(Either.right(traceparent))
    expect(new TextDecoder().decode(frameOf(Either.getOrThrow(decoded)).bytes)).toBe(new TextDecoder().decode(frameOf(stored).bytes))
    // A subscriber that does not know the field reads the same notification.
    expect(Either.map(decodeStoredNotification(message), encodeStoredNotification)).toEqual(Either.right(encodeStoredNotification(stored)))
  })
})

describe("NotificationHub.push spans", () => {
  it.scoped("where spans are exported: one per pushed message, a child of the span that handled its event", () => {
    const recorded = recordingTracer()
    return Effect.gen(function*() {
      const hub = yield* NotificationHub
      const service = yield* NotificationService
      const [a, b] = [client(), client()]
      for (const c of [a, b]) yield* Effect.acquireRelease(hub.open("s1", Option.none(), c.sink), (s) => s.close)
      const producerA = Tracer.externalSpan({ traceId: "a".repeat(32), spanId: "1".repeat(16) })
      // As the engine runs a segment: its span a child of the first record's producer; the second record is of another trace.
      yield* service.handleChunk([itemOf(created("s1", "lamp"), traceparentOf("a", "1")), itemOf(created("s1", "desk"), traceparentOf("b", "2"))]).pipe(
        Effect.withSpan("notification-service process", { parent: producerA })
      )
      yield* settle(() => a.frames.length === 2 && b.frames.length === 2)

      const handled = recorded.named("NotificationService.handleChunk")[0]!
      const pushes = recorded.named("NotificationHub.push")
      expect(pushes).toHaveLength(2)
      expect(pushes.map((p) => Option.map(p.parent, (parent) => [parent.traceId, parent.spanId]))).toEqual([
        Option.some([handled.traceId, handled.spanId]),
        Option.some(["b".repeat(32), "2".repeat(16)])
      ])
      expect(handled.traceId).toBe("a".repeat(32))
      expect(pushes[0]!.kind).toBe("consumer")
      expect(Object.fromEntries(["seller", "subscribers"].map((k) => [k, pushes[0]!.attributes.get(k)]))).toEqual({ seller: "s1", subscribers: 2 })
      // Both clients got the one shared frame, with no trace context in it.
      expect(a.frames[0]!.bytes).toBe(b.frames[0]!.bytes)
      expect(new TextDecoder().decode(a.frames[0]!.bytes)).not.toContain("traceparent")
    }).pipe(Effect.provide(stack), Effect.withTracer(recorded.tracer))
  })

  it.scoped("on Effect's native tracer: the message carries no trace context, and clients get the same frames", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const service = yield* NotificationService
      const raw = yield* rawMessages("s1")
      const c = client()
      yield* Effect.acquireRelease(hub.open("s1", Option.none(), c.sink), (s) => s.close)
      yield* service.handleChunk([itemOf(created("s1", "lamp"), traceparentOf("a", "1"))]).pipe(Effect.withSpan("notification-service process"))
      yield* settle(() => c.frames.length === 1 && raw.length === 1)
      expect(raw[0]).toBe(encodeStoredNotification(c.frames[0]!.notification))
    }).pipe(Effect.provide(stack)))
})
