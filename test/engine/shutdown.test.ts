import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { notificationService, productEventsTopic } from "../../src/domain/Consumers.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog } from "../../src/services/EventLog.js"
import { committedOf, event, publish, TestLayer } from "./fixtures.js"

describe("ConsumerEngine shutdown", () => {
  it.effect("interruption stops taking records, drains in-flight and queued work, then commits", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const sellers = ["seller_a", "seller_b", "seller_c", "seller_d"]
      const events = sellers.flatMap((s, i) => [event(s, i), event(s, 10 + i)])
      yield* publish(...events)
      const handled: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        shutdownTimeout: "1 minute",
        handle: (e) => Effect.sleep("5 seconds").pipe(Effect.zipRight(Effect.sync(() => void handled.push(e.eventId))))
      }))
      yield* TestClock.adjust("100 millis")
      expect(handled).toEqual([])

      const stopping = yield* Effect.fork(Fiber.interrupt(engine))
      yield* TestClock.adjust("100 millis")
      const late = event("seller_a", 99)
      yield* publish(late)
      yield* TestClock.adjust("20 seconds")
      yield* Fiber.join(stopping)

      expect([...handled].sort()).toEqual(events.map((e) => e.eventId).sort())
      const committed = yield* log.committed("notification-service", productEventsTopic)
      const ends = yield* log.endOffsets(productEventsTopic)
      // Every partition committed up to its end, except the late record, which was never taken.
      const total = committed.reduce((n, c) => n + Math.max(c.offset, 0), 0)
      expect(total).toBe(events.length)
      expect(ends.reduce((n, e) => n + e.offset, 0)).toBe(events.length + 1)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("work that does not finish within shutdownTimeout is abandoned, uncommitted", () =>
    Effect.gen(function*() {
      const stuck = event("seller_stuck", 1)
      const [stuckAt] = yield* publish(stuck)
      const others = yield* publish(event("seller_ok", 2), event("seller_ok", 3))
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        shutdownTimeout: "2 seconds",
        handle: (e) => (e.eventId === stuck.eventId ? Effect.never : Effect.void)
      }))
      yield* TestClock.adjust("100 millis")
      const stopping = yield* Effect.fork(Fiber.interrupt(engine))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(stopping)
      expect(yield* committedOf("notification-service", stuckAt!.partition)).toBe(stuckAt!.offset)
      expect(others[0]!.partition).not.toBe(stuckAt!.partition)
      expect(yield* committedOf("notification-service", others[0]!.partition)).toBe(others[1]!.offset + 1)
    }).pipe(Effect.provide(TestLayer)))
})
