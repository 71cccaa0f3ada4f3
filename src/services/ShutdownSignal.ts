import { Effect, Runtime } from "effect"

/**
 * Runs `effect` when the process gets SIGTERM or SIGINT, at the signal itself (before any layer closes),
 * for as long as the calling scope is open.
 */
export const onShutdownSignal = (effect: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const onSignal = () => void runFork(effect)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        process.once("SIGTERM", onSignal)
        process.once("SIGINT", onSignal)
      }),
      () =>
        Effect.sync(() => {
          process.off("SIGTERM", onSignal)
          process.off("SIGINT", onSignal)
        })
    )
  })
