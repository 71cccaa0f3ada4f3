import { Cause, Clock, Data, Duration, Effect, Exit, Ref } from "effect"

/**
 * A circuit breaker: after `failureThreshold` consecutive failures it opens and fails calls at once
 * (`BreakerOpen`, saying when to retry) for `resetAfter`; then it half-opens: one call goes through as
 * a probe while the others still fail at once. A successful probe closes it, a failed one opens it again.
 * An interrupted call counts as neither; an interrupted probe lets the next call probe.
 */

export class BreakerOpen extends Data.TaggedError("BreakerOpen")<{
  /** When a retry may succeed: what is left of the open period (at least the time a probe takes). */
  readonly retryAfter: Duration.Duration
}> {}

export interface CircuitBreakerOptions {
  readonly failureThreshold: number
  readonly resetAfter: Duration.DurationInput
}

export type BreakerState =
  | { readonly _tag: "Closed"; readonly failures: number }
  | { readonly _tag: "Open"; readonly until: number }
  | { readonly _tag: "HalfOpen" }

export interface CircuitBreaker {
  readonly protect: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BreakerOpen, R>
  readonly state: Effect.Effect<BreakerState>
}

type Decision = { readonly _tag: "Run"; readonly probe: boolean } | { readonly _tag: "Reject"; readonly retryAfterMillis: number }

export const make = (options: CircuitBreakerOptions): Effect.Effect<CircuitBreaker> =>
  Effect.gen(function*() {
    const resetMillis = Duration.toMillis(Duration.decode(options.resetAfter))
    const state = yield* Ref.make<BreakerState>({ _tag: "Closed", failures: 0 })

    const decide = (now: number) =>
      Ref.modify(state, (current): [Decision, BreakerState] => {
        switch (current._tag) {
          case "Closed":
            return [{ _tag: "Run", probe: false }, current]
          case "Open":
            return now >= current.until
              ? [{ _tag: "Run", probe: true }, { _tag: "HalfOpen" }]
              : [{ _tag: "Reject", retryAfterMillis: current.until - now }, current]
          case "HalfOpen":
            return [{ _tag: "Reject", retryAfterMillis: resetMillis }, current]
        }
      })

    const settle = <A, E>(probe: boolean, exit: Exit.Exit<A, E>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(state, (current): BreakerState => {
          if (Exit.isSuccess(exit)) return { _tag: "Closed", failures: 0 }
          if (Cause.isInterruptedOnly(exit.cause)) return probe ? { _tag: "Open", until: now } : current
          if (probe) return { _tag: "Open", until: now + resetMillis }
          if (current._tag !== "Closed") return current
          const failures = current.failures + 1
          return failures >= options.failureThreshold ? { _tag: "Open", until: now + resetMillis } : { _tag: "Closed", failures }
        }))

    // Uninterruptible between the decision and the settling: a probe always settles its state.
    const protect = <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E | BreakerOpen, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Clock.currentTimeMillis, decide).pipe(
          Effect.flatMap((decision): Effect.Effect<A, E | BreakerOpen, R> =>
            decision._tag === "Reject"
              ? Effect.fail(new BreakerOpen({ retryAfter: Duration.millis(decision.retryAfterMillis) }))
              : restore(call).pipe(Effect.onExit((exit) => settle(decision.probe, exit)))
          )
        )
      )

    return { protect, state: Ref.get(state) }
  })
