import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Stream } from "effect"
import { notificationChannel } from "../../src/domain/Notification.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import * as NotificationStoreMemory from "../../src/layers/NotificationStoreMemory.js"
import * as PubSubMemory from "../../src/layers/PubSubMemory.js"
import type { ChunkItem } from "../../src/services/ConsumerEngine.js"
import { NotificationService } from "../../src/services/NotificationService.js"
import { NotificationStore } from "../../src/services/NotificationStore.js"
import { PubSub } from "../../src/services/PubSub.js"
import { created } from "../support/events.js"

/** notification-service's chunk entry point: what it stores and publishes, and what it leaves to a partition's new owner. */
const stack = NotificationService.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(NotificationStoreMemory.layerMemory, PubSubMemory.layerMemory))
)

const itemOf = (event: ProductEvent, offset: number): ChunkItem => ({
  event,
  record: { topic: "product-events", partition: 0, offset, key: event.data.sellerId, value: new TextEncoder().encode(event.eventId), headers: {}, timestamp: 0 },
  defer: () => () => {}
})

describe("NotificationService.handleChunk", () => {
  it.scoped("an item whose partition was revoked (dropped) is neither stored nor published (null), and its seller's later ones are left unattempted", () =>
    Effect.gen(function*() {
      const service = yield* NotificationService
      const store = yield* NotificationStore
      const pubsub = yield* PubSub
      const messages: Array<string> = []
      const stream = yield* pubsub.subscribe(notificationChannel("c1"))
      yield* Effect.forkScoped(Stream.runForEach(stream, (m) => Effect.sync(() => messages.push(m))))
      const items = [itemOf(created("c1", "lamp"), 0), itemOf(created("c1", "desk"), 1), itemOf(created("c1", "sofa"), 2), itemOf(created("c2", "chair"), 3)]
      // Only desk is dropped here: sofa, after it, is the seller's later record, left unattempted.
      const revoked = new Set([1])
      const results = yield* service.handleChunk(items, (item) => revoked.has(item.record.offset))
      expect(results.map((r) => (r === null ? null : r !== undefined && Exit.isSuccess(r) ? "done" : r))).toEqual(["done", null, undefined, "done"])
      expect((yield* store.list("c1", { limit: 10, order: "asc" })).map((n) => n.productId)).toEqual(["lamp"])
      expect((yield* store.list("c2", { limit: 10, order: "asc" })).map((n) => n.productId)).toEqual(["chair"])
      // Then a while longer: a wrongly published desk or sofa would come in the same pipeline as lamp.
      for (let i = 0; i < 1000 && messages.length < 1; i++) yield* Effect.yieldNow()
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      expect(messages).toHaveLength(1)
    }).pipe(Effect.provide(stack)))
})
