import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, TestClock } from "effect"
import { deadLetterTopic, notificationService } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import { partitionFor } from "../../src/layers/kafka/Partitioner.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { committedOf, event, partitions, publish, readTopic, sellerOf, TestLayer } from "./fixtures.js"

const committedTotal = Effect.forEach(Array.from({ length: partitions }, (_, p) => p), (p) =>
  Effect.map(committedOf("notification-service", p), (offset) => Math.max(0, offset))).pipe(
    Effect.map((offsets) => offsets.reduce((n, o) => n + o, 0))
  )

describe("ConsumerEngine dispatch", () => {
  it.effect("a synchronous handler's records are handled in the dispatcher, in order, without a lane; all committed", () =>
    Effect.gen(function*() {
      const events = Array.from({ length: 50 }, (_, n) => event(`seller_${n % 5}`, n))
      yield* publish(...events)
      const stats = new ConsumerEngine.EngineStats()
      const seen = new Map<string, Array<number>>()
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        stats,
        handle: (e) => {
          seen.set(e.data.sellerId, [...(seen.get(e.data.sellerId) ?? []), Date.parse(e.timestamp)])
          return Effect.void
        }
      }))
      yield* TestClock.adjust("1 second")
      expect([...seen.values()].flat()).toHaveLength(events.length)
      for (const [, times] of seen) expect(times).toEqual([...times].sort((a, b) => a - b))
      expect(stats.peakLiveLanes).toBe(0)
      expect(yield* committedTotal).toBe(events.length)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a record whose effect is still to run takes its lane: the lane's later records wait behind it, each handled once", () =>
    Effect.gen(function*() {
      // Two sellers of one partition, so that the log delivers them in this order.
      const other = Array.from({ length: 100 }, (_, i) => `seller_${i}`)
        .find((s) => partitionFor(s, partitions) === partitionFor("seller_a", partitions))!
      const slow = event("seller_a", 1)
      yield* publish(slow, event(other, 2), event("seller_a", 3))
      const gate = yield* Deferred.make<void>()
      const calls: Array<string> = []
      const finished: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        lanes: 1,
        handle: (e) => {
          calls.push(e.eventId)
          if (e.eventId !== slow.eventId) {
            finished.push(e.eventId)
            return Effect.void
          }
          return Effect.zipRight(Deferred.await(gate), Effect.sync(() => void finished.push(e.eventId)))
        }
      }))
      yield* TestClock.adjust("2 seconds")
      // One lane: the other seller's record, behind the slow one, is not even handed to the handler yet.
      expect(calls).toEqual([slow.eventId])
      expect(finished).toEqual([])
      yield* Deferred.succeed(gate, void 0)
      yield* TestClock.adjust("2 seconds")
      expect(finished).toEqual([slow.eventId, event(other, 2).eventId, event("seller_a", 3).eventId])
      expect(calls).toEqual(finished)
      expect(yield* committedTotal).toBe(3)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a handler that throws instead of returning an effect: that record is dead-lettered as a defect, the rest go on", () =>
    Effect.gen(function*() {
      const bad = event("seller_bad", 1)
      const others = [event("seller_bad", 2), event("seller_ok", 3)]
      yield* publish(bad, ...others)
      const handled: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        handle: (e) => {
          if (e.eventId === bad.eventId) throw new Error("handler bug")
          handled.push(e.eventId)
          return Effect.void
        }
      }))
      yield* TestClock.adjust("2 seconds")
      expect([...handled].sort()).toEqual(others.map((e) => e.eventId).sort())
      const dead = yield* readTopic(deadLetterTopic("notification-service"))
      expect(dead.map(sellerOf)).toEqual(["seller_bad"])
      expect(dead[0]!.headers[deadLetterHeaders.errorTag]).toBe("Defect")
      expect(dead[0]!.headers[deadLetterHeaders.error]).toMatch(/handler bug/)
      expect(yield* committedTotal).toBe(3)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))
})
