import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { analyticsService, type ConsumerContract, deadLetterTopic, nominalDelays, notificationService } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { committedOf, event, publish, readTopic, Rejected, TestLayer, Unavailable } from "./fixtures.js"

/** Runs one always-failing event through the engine; returns the TestClock time of every attempt. */
const attemptTimes = (contract: ConsumerContract, error: Unavailable | Rejected) =>
  Effect.gen(function*() {
    const [position] = yield* publish(event("seller_1", 1))
    const times: Array<number> = []
    const engine = yield* Effect.fork(ConsumerEngine.run({
      contract,
      commitInterval: "1 hour",
      handle: () => Effect.flatMap(Clock.currentTimeMillis, (now) => (times.push(now), Effect.fail(error)))
    }))
    yield* TestClock.adjust("3 hours")
    const [dead] = yield* readTopic(deadLetterTopic(contract.group))
    yield* Fiber.interrupt(engine)
    expect(yield* committedOf(contract.group, position!.partition)).toBe(1)
    return { times, dead: dead! }
  })

const policies = [
  ["notification-service", notificationService, 6],
  ["analytics-service", analyticsService, 11]
] as const

describe("ConsumerEngine retries", () => {
  for (const [name, contract, expectedAttempts] of policies) {
    it.effect(`${name}: ${expectedAttempts} attempts, each delay within the policy's jitter and cap, then a dead letter`, () =>
      Effect.gen(function*() {
        const { dead, times } = yield* attemptTimes(contract, new Unavailable({ message: "store down" }))
        const { factor, initialDelayMillis, jitter, maxDelayMillis, maxRetries } = contract.retry
        expect(times.length).toBe(maxRetries + 1)
        expect(times.length).toBe(expectedAttempts)
        expect(times[0]).toBe(0)
        for (let n = 0; n < maxRetries; n++) {
          const raw = initialDelayMillis * factor ** n
          const gap = times[n + 1]! - times[n]!
          expect(gap).toBeGreaterThanOrEqual(Math.min(raw * (1 - jitter), maxDelayMillis) - 1)
          expect(gap).toBeLessThanOrEqual(Math.min(raw * (1 + jitter), maxDelayMillis) + 1)
        }
        expect(dead.headers[deadLetterHeaders.attempts]).toBe(String(expectedAttempts))
        expect(dead.headers[deadLetterHeaders.reason]).toBe("retries-exhausted")
        expect(dead.headers[deadLetterHeaders.errorTag]).toBe("Unavailable")
        expect(dead.headers[deadLetterHeaders.error]).toBe("store down")
        expect(dead.headers[deadLetterHeaders.consumerGroup]).toBe(contract.group)
      }).pipe(Effect.provide(TestLayer)))
  }

  it.effect("analytics-service: the delays reach the 300 s cap", () =>
    Effect.gen(function*() {
      const { times } = yield* attemptTimes(analyticsService, new Unavailable({ message: "down" }))
      // Jittered delays are fractional milliseconds: a difference of two large times may be off by an ulp.
      const gaps = times.slice(1).map((t, i) => Math.round(t - times[i]!))
      expect(gaps.slice(-2)).toEqual([300_000, 300_000])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("the delays are jittered, not the nominal ones", () =>
    Effect.gen(function*() {
      const { times } = yield* attemptTimes(notificationService, new Unavailable({ message: "down" }))
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      expect(gaps).not.toEqual(nominalDelays(notificationService.retry))
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a non-retriable failure is dead-lettered after its first attempt", () =>
    Effect.gen(function*() {
      const { dead, times } = yield* attemptTimes(notificationService, new Rejected({ message: "bad state" }))
      expect(times).toEqual([0])
      expect(dead.headers[deadLetterHeaders.attempts]).toBe("1")
      expect(dead.headers[deadLetterHeaders.reason]).toBe("non-retriable")
      expect(dead.headers[deadLetterHeaders.errorTag]).toBe("Rejected")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a retriable failure that later succeeds is done, not dead-lettered", () =>
    Effect.gen(function*() {
      yield* publish(event("seller_1", 1))
      let attempts = 0
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        handle: () => Effect.suspend(() => ++attempts < 3 ? Effect.fail(new Unavailable({ message: "blip" })) : Effect.void)
      }))
      yield* TestClock.adjust("1 minute")
      expect(attempts).toBe(3)
      expect(yield* readTopic(deadLetterTopic("notification-service"))).toEqual([])
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))
})
