import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, TestClock } from "effect"
import * as CircuitBreaker from "../../src/services/CircuitBreaker.js"

const down = Effect.fail("connection refused" as const)
const up = Effect.succeed("ok" as const)

describe("CircuitBreaker", () => {
  it.effect("closed: calls go through; consecutive failures below the threshold leave it closed", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 3, resetAfter: "1 second" })
      expect(yield* breaker.protect(up)).toBe("ok")
      yield* Effect.flip(breaker.protect(down))
      yield* Effect.flip(breaker.protect(down))
      expect(yield* breaker.protect(up)).toBe("ok")
      yield* Effect.flip(breaker.protect(down))
      yield* Effect.flip(breaker.protect(down))
      expect(yield* breaker.state).toEqual({ _tag: "Closed", failures: 2 })
    }))

  it.effect("opens after the threshold: calls fail at once with the time left, without running", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 2, resetAfter: "1 second" })
      yield* Effect.flip(breaker.protect(down))
      yield* Effect.flip(breaker.protect(down))
      yield* TestClock.adjust("300 millis")
      let ran = false
      const error = yield* Effect.flip(breaker.protect(Effect.sync(() => (ran = true))))
      expect(ran).toBe(false)
      expect(error).toBeInstanceOf(CircuitBreaker.BreakerOpen)
      expect(Duration.toMillis((error as CircuitBreaker.BreakerOpen).retryAfter)).toBe(700)
    }))

  it.effect("half-opens after resetAfter: one probe runs while others fail; its success closes the breaker", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 1, resetAfter: "1 second" })
      yield* Effect.flip(breaker.protect(down))
      yield* TestClock.adjust("1 second")
      const release = yield* Deferred.make<void>()
      const probe = yield* Effect.fork(breaker.protect(Deferred.await(release).pipe(Effect.as("probed"))))
      yield* Effect.yieldNow()
      expect(yield* breaker.state).toEqual({ _tag: "HalfOpen" })
      expect(yield* Effect.flip(breaker.protect(up))).toBeInstanceOf(CircuitBreaker.BreakerOpen)
      yield* Deferred.succeed(release, undefined)
      expect(yield* Fiber.join(probe)).toBe("probed")
      expect(yield* breaker.state).toEqual({ _tag: "Closed", failures: 0 })
      expect(yield* breaker.protect(up)).toBe("ok")
    }))

  it.effect("a failed probe opens it again for resetAfter", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 1, resetAfter: "1 second" })
      yield* Effect.flip(breaker.protect(down))
      yield* TestClock.adjust("1 second")
      expect(yield* Effect.flip(breaker.protect(down))).toBe("connection refused")
      expect(yield* Effect.flip(breaker.protect(up))).toBeInstanceOf(CircuitBreaker.BreakerOpen)
      yield* TestClock.adjust("1 second")
      expect(yield* breaker.protect(up)).toBe("ok")
    }))

  it.effect("an interrupted probe lets the next call probe", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 1, resetAfter: "1 second" })
      yield* Effect.flip(breaker.protect(down))
      yield* TestClock.adjust("1 second")
      const probe = yield* Effect.fork(breaker.protect(Effect.never))
      yield* Effect.yieldNow()
      expect(Exit.isInterrupted(yield* Fiber.interrupt(probe))).toBe(true)
      expect(yield* breaker.protect(up)).toBe("ok")
    }))
})
