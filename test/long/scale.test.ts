import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { notificationService, productEventsTopic } from "../../src/domain/Consumers.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog } from "../../src/services/EventLog.js"
import { event, message, TestLayer } from "../engine/fixtures.js"

const sellers = 100_000
const lanes = 64
const laneCapacity = 16

describe("ConsumerEngine resources", () => {
  it.effect(`${sellers} distinct sellers pass through at most ${lanes} lanes`, () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      for (let batch = 0; batch < sellers; batch += 5_000) {
        const messages = Array.from({ length: 5_000 }, (_, i) => message(event(`s${batch + i}`, batch + i, "LowStockWarning")))
        yield* log.produce(productEventsTopic, messages)
      }
      const stats = new ConsumerEngine.EngineStats()
      const done = yield* Deferred.make<void>()
      const seen = new Set<string>()
      let peakLanesSeenByHandler = 0
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        lanes,
        laneCapacity,
        stats,
        handle: (e) =>
          Effect.suspend(() => {
            seen.add(e.data.sellerId)
            peakLanesSeenByHandler = Math.max(peakLanesSeenByHandler, stats.liveLanes)
            return seen.size === sellers ? Deferred.succeed(done, void 0) : Effect.void
          })
      }))
      yield* Deferred.await(done)
      expect(seen.size).toBe(sellers)
      // So many sellers fill every lane, and no more.
      expect(stats.peakLiveLanes).toBe(lanes)
      expect(peakLanesSeenByHandler).toBe(lanes)
      // Lanes plus parked sellers (default 8 per lane).
      expect(stats.peakLiveFibers).toBeLessThanOrEqual(lanes * (1 + 8))
      // Queued plus in hand plus the one being offered: independent of the number of sellers.
      expect(stats.peakInFlight).toBeGreaterThan(0)
      expect(stats.peakInFlight).toBeLessThanOrEqual(lanes * (laneCapacity + 1) + 1)

      yield* Fiber.interrupt(engine)
      expect(stats.liveLanes).toBe(0)
      const committed = yield* log.committed("notification-service", productEventsTopic)
      expect(committed.reduce((n, c) => n + c.offset, 0)).toBe(sellers)
    }).pipe(Effect.provide(TestLayer)), 60_000)
})
