import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { notificationService } from "../../src/domain/Consumers.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { Metrics } from "../../src/services/Metrics.js"
import { committedOf, event, publish, TestLayer, Unavailable } from "./fixtures.js"

const doneCount = Effect.flatMap(Metrics, (metrics) => Effect.promise(() => metrics.consumed.get())).pipe(
  Effect.map(({ values }) => values.filter((v) => v.labels.outcome === "done").reduce((n, v) => n + v.value, 0))
)

describe("ConsumerEngine deferred completion", () => {
  it.effect("a deferred record is committed only once released; a failed attempt's deferral never counts", () =>
    Effect.gen(function*() {
      const [first, second] = yield* publish(event("seller_1", 1), event("seller_1", 2))
      const releases: Array<() => void> = []
      let attempts = 0
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        handle: (e, _, defer) =>
          Effect.suspend(() => {
            if (e.data.productId === "sku_1") {
              releases.push(defer())
              return Effect.void
            }
            // The second event: its first attempt defers then fails; its retry succeeds without deferring.
            if (++attempts === 1) {
              releases.push(defer())
              return Effect.fail(new Unavailable({ message: "blip" }))
            }
            return Effect.void
          })
      }))
      yield* TestClock.adjust("10 seconds")
      expect(attempts).toBe(2)
      expect(yield* committedOf("notification-service", first!.partition)).toBe(first!.offset)
      expect(yield* doneCount).toBe(1)

      releases[1]!()
      expect(yield* doneCount).toBe(1)
      releases[0]!()
      releases[0]!()
      expect(yield* doneCount).toBe(2)
      yield* TestClock.adjust("1 second")
      expect(yield* committedOf("notification-service", first!.partition)).toBe(second!.offset + 1)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))
})
