import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import * as RateLimiter from "../../src/services/RateLimiter.js"

/** What a take answers: "ok", or the seconds to wait. */
const take = (limiter: RateLimiter.RateLimiter, key: string, cost: number) =>
  Effect.map(Effect.either(limiter.take(key, cost)), Either.match({ onLeft: (e) => e.retryAfterSeconds, onRight: () => "ok" as const }))

describe("RateLimiter (token buckets per key)", () => {
  it.effect("passes a burst of one second's worth, then refuses, saying when enough tokens are back", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ ratePerSecond: 10, burst: 10, maxKeys: 100 })
      expect(yield* take(limiter, "a", 6)).toBe("ok")
      expect(yield* take(limiter, "a", 4)).toBe("ok")
      expect(yield* take(limiter, "a", 1)).toBe(1)
      // Refused takes nothing: 300 ms later 3 tokens are back, so 3 pass and a 4th does not.
      yield* TestClock.adjust("300 millis")
      expect(yield* take(limiter, "a", 4)).toBe(1)
      expect(yield* take(limiter, "a", 3)).toBe("ok")
      expect(yield* take(limiter, "a", 1)).toBe(1)
      // The others' buckets are their own.
      expect(yield* take(limiter, "b", 10)).toBe("ok")
    }))

  it.effect("refills at the rate, never beyond the burst", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ ratePerSecond: 100, burst: 100, maxKeys: 100 })
      expect(yield* take(limiter, "a", 100)).toBe("ok")
      yield* TestClock.adjust("500 millis")
      expect(yield* take(limiter, "a", 51)).toBe(1)
      expect(yield* take(limiter, "a", 50)).toBe("ok")
      yield* TestClock.adjust("1 hour")
      expect(yield* take(limiter, "a", 101)).toBe("ok") // a full bucket passes any batch (see the next test)
      expect(yield* take(limiter, "a", 1)).toBe(1)
    }))

  it.effect("retry-after is the whole seconds until the refused cost would pass", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ ratePerSecond: 2, burst: 10, maxKeys: 100 })
      expect(yield* take(limiter, "a", 10)).toBe("ok")
      expect(yield* take(limiter, "a", 5)).toBe(3) // 5 tokens at 2/s: 2.5 s
      yield* TestClock.adjust("2500 millis")
      expect(yield* take(limiter, "a", 5)).toBe("ok")
    }))

  it.effect("a batch larger than the burst passes on a full bucket and leaves a debt paid at the rate", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ ratePerSecond: 10, burst: 10, maxKeys: 100 })
      expect(yield* take(limiter, "a", 25)).toBe("ok") // -15 left
      expect(yield* take(limiter, "a", 1)).toBe(2) // 16 tokens away at 10/s
      yield* TestClock.adjust("1500 millis")
      expect(yield* take(limiter, "a", 1)).toBe(1)
      yield* TestClock.adjust("1 second")
      expect(yield* take(limiter, "a", 10)).toBe("ok") // back to full after 2.5 s: a new large batch may pass
      expect(yield* take(limiter, "a", 25)).toBe(1) // it waits for a full bucket: one second
    }))

  it.effect("keeps at most maxKeys buckets, and drops those that refilled as calls come", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ ratePerSecond: 10, burst: 10, maxKeys: 3 })
      for (const key of ["a", "b", "c", "d", "e"]) expect(yield* take(limiter, key, 10)).toBe("ok")
      expect(limiter.size()).toBe(3)
      // "a" was dropped (least recently used): a fresh full bucket. "e" was not.
      expect(yield* take(limiter, "e", 1)).toBe(1)
      yield* TestClock.adjust("2 seconds")
      // Everyone has refilled: the next call drops all those idle buckets.
      expect(yield* take(limiter, "z", 1)).toBe("ok")
      expect(limiter.size()).toBe(1)
    }))
})
