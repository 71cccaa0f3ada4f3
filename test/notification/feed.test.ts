import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { toNotification } from "../../src/domain/Notify.js"
import * as NotificationStoreMemory from "../../src/layers/NotificationStoreMemory.js"
import * as PubSubMemory from "../../src/layers/PubSubMemory.js"
import { NotificationFeed } from "../../src/services/NotificationFeed.js"
import { NotificationService } from "../../src/services/NotificationService.js"
import { NotificationStore } from "../../src/services/NotificationStore.js"
import { PubSub } from "../../src/services/PubSub.js"
import { baseMillis, created, lowStock } from "../support/events.js"

const Stack = Layer.mergeAll(NotificationFeed.Default, NotificationService.Default).pipe(
  Layer.provideMerge(Layer.mergeAll(NotificationStoreMemory.layerMemory, Layer.effect(PubSub, PubSubMemory.make({ subscriberBuffer: 2 }))))
)

const events = (seller: string, n: number) =>
  Array.from({ length: n }, (_, i) => (i % 3 === 2 ? lowStock(seller, `p${i}`, baseMillis + i) : created(seller, `p${i}`, baseMillis + i)))

const ids = (chunk: Chunk.Chunk<{ readonly id: string }>) => Chunk.toReadonlyArray(chunk).map((n) => n.id)

describe("NotificationFeed", () => {
  it.scoped("replays after Last-Event-ID, then goes live with no gap and no duplicate at the seam", () =>
    Effect.gen(function*() {
      const service = yield* NotificationService
      const { feed } = yield* NotificationFeed
      const all = events("s1", 6)
      for (const e of all.slice(0, 4)) yield* service.handle(e)

      const fiber = yield* feed("s1", Option.some(all[1]!.eventId)).pipe(Stream.take(4), Stream.runCollect, Effect.fork)
      yield* TestClock.adjust(0)
      // redelivery of an already stored event republishes it: the feed drops it by seq
      yield* service.handle(all[2]!)
      for (const e of all.slice(4)) yield* service.handle(e)
      const received = yield* Fiber.join(fiber)
      expect(ids(received)).toEqual(all.slice(2, 6).map((e) => e.eventId))
    }).pipe(Effect.provide(Stack)))

  it.scoped("without Last-Event-ID sends only what comes after the connection", () =>
    Effect.gen(function*() {
      const service = yield* NotificationService
      const { feed } = yield* NotificationFeed
      const all = events("s1", 3)
      yield* service.handle(all[0]!)
      const fiber = yield* feed("s1", Option.none()).pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      yield* TestClock.adjust(0)
      yield* service.handle(all[1]!)
      yield* service.handle(all[2]!)
      expect(ids(yield* Fiber.join(fiber))).toEqual([all[1]!.eventId, all[2]!.eventId])
    }).pipe(Effect.provide(Stack)))

  it.scoped("fills from the store what a slow subscriber's buffer dropped", () =>
    Effect.gen(function*() {
      const service = yield* NotificationService
      const { feed } = yield* NotificationFeed
      const all = events("s1", 8)
      // the feed's reader stalls on the first notification while the rest overflow a buffer of 2
      const latch = yield* Effect.makeLatch(false)
      const fiber = yield* feed("s1", Option.none()).pipe(
        Stream.tap(() => latch.await),
        Stream.take(all.length),
        Stream.runCollect,
        Effect.fork
      )
      yield* TestClock.adjust(0)
      for (const e of all) yield* service.handle(e)
      yield* latch.open
      expect(ids(yield* Fiber.join(fiber))).toEqual(all.map((e) => e.eventId))
    }).pipe(Effect.provide(Stack)))

  it.scoped("an unknown Last-Event-ID replays from the start, and other sellers' notifications never appear", () =>
    Effect.gen(function*() {
      const service = yield* NotificationService
      const store = yield* NotificationStore
      const { feed } = yield* NotificationFeed
      const mine = events("s1", 2)
      yield* service.handle(created("s2", "p9", baseMillis))
      for (const e of mine) yield* service.handle(e)
      const received = yield* feed("s1", Option.some("nonsense")).pipe(Stream.take(2), Stream.runCollect)
      expect(ids(received)).toEqual(mine.map((e) => e.eventId))
      expect((yield* store.list("s2", { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([toNotification(created("s2", "p9", baseMillis)).id])
    }).pipe(Effect.provide(Stack)))
})
