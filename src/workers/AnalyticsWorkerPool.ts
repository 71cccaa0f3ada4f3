import * as Worker from "@effect/platform/Worker"
import type { WorkerError } from "@effect/platform/WorkerError"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Config, type ConfigError, Deferred, Duration, Effect, ExecutionStrategy, Exit, Fiber, Layer, type ParseResult, Scope } from "effect"
import { availableParallelism } from "node:os"
import * as WorkerThreads from "node:worker_threads"
import { type AnalyticsRequest, Aggregate, EncodeArchive } from "./AnalyticsRequests.js"
import { AnalyticsWorkers, WorkerStartError, WorkerTaskError } from "./AnalyticsWorkers.js"

export interface PoolOptions {
  readonly size: number
  /** The worker entry module (default: `analytics-worker.mjs` beside this module). */
  readonly entry?: URL
  /** How long the pool may take to start all its workers. Default 30 seconds. */
  readonly startTimeout?: Duration.DurationInput
}

export const defaultEntry = new URL("./analytics-worker.mjs", import.meta.url)
export const defaultPoolSize = (): number => Math.max(1, availableParallelism() - 1)

/** A pool of worker threads of the given size and entry. Fails when a worker cannot start. */
export const layer = (options: PoolOptions): Layer.Layer<AnalyticsWorkers, WorkerStartError> =>
  Layer.scoped(AnalyticsWorkers, makePool(options))

/** The pool sized by `ANALYTICS_WORKERS` (default: available cores - 1, at least 1). */
export const layerConfig: Layer.Layer<AnalyticsWorkers, WorkerStartError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Config.integer("ANALYTICS_WORKERS").pipe(
    Config.validate({ message: "must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(defaultPoolSize()),
    Effect.map((size) => layer({ size }))
  )
)

/**
 * Spawns workers that report a failed start: an error or exit before the worker's runner said it
 * was ready. The platform would respawn such a worker forever (every second); instead the first
 * failed start completes `failed`, which fails the pool's construction and every later call.
 */
const spawner = (entry: URL, failed: Deferred.Deferred<never, WorkerStartError>) => (id: number) => {
  const worker = new WorkerThreads.Worker(entry, { name: `analytics-worker-${id}` })
  let ready = false
  const failStart = (cause: unknown) => {
    if (!ready) Deferred.unsafeDone(failed, Exit.fail(new WorkerStartError({ entry: entry.href, cause })))
  }
  worker.once("message", () => {
    ready = true
  })
  worker.once("error", failStart)
  worker.once("exit", (code) => failStart(new Error(`exited with code ${code} before it was ready`)))
  return worker
}

const isTagged = (e: unknown, tag: string): boolean =>
  typeof e === "object" && e !== null && "_tag" in e && e._tag === tag

const makePool = (options: PoolOptions) =>
  Effect.gen(function*() {
    const entry = options.entry ?? defaultEntry
    const failed = yield* Deferred.make<never, WorkerStartError>()
    const startTimeout = options.startTimeout ?? Duration.seconds(30)
    // The pool gets a scope of its own: waiting for a worker is uninterruptible in Pool, so a failed
    // start is only escaped by shutting the pool down (closing this scope), not by interruption.
    const poolScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const starting = yield* Worker.makePoolSerialized<AnalyticsRequest>({ size: options.size }).pipe(
      Effect.provide(NodeWorker.layer(spawner(entry, failed))),
      Effect.mapError((cause) => new WorkerStartError({ entry: entry.href, cause })),
      Scope.extend(poolScope),
      Effect.forkIn(poolScope)
    )
    const pool = yield* Fiber.join(starting).pipe(
      Effect.timeoutFail({
        duration: startTimeout,
        onTimeout: () =>
          new WorkerStartError({ entry: entry.href, cause: new Error(`not ready within ${Duration.format(startTimeout)}`) })
      }),
      Effect.raceFirst(Deferred.await(failed)),
      Effect.tapError(() => Scope.close(poolScope, Exit.void))
    )
    yield* Effect.annotateLogs(Effect.logInfo("analytics workers started"), { service: "AnalyticsWorkers", size: options.size })

    const run = <A, E>(task: AnalyticsRequest["_tag"], effect: Effect.Effect<A, E | WorkerError | ParseResult.ParseError>) =>
      effect.pipe(
        Effect.catchIf(
          (e): e is WorkerError | ParseResult.ParseError => isTagged(e, "WorkerError") || isTagged(e, "ParseError"),
          (e) =>
            // A message that does not encode or decode is a bug, not a condition a caller can handle.
            e._tag === "WorkerError" && (e.reason === "spawn" || e.reason === "send" || e.reason === "unknown")
              ? Effect.fail(new WorkerTaskError({ task, cause: e }))
              : Effect.die(e)
        ),
        Effect.raceFirst(Deferred.await(failed))
      )

    return AnalyticsWorkers.of({
      size: options.size,
      aggregate: Effect.fn("AnalyticsWorkers.aggregate")(function*(events) {
        return yield* run("Aggregate", pool.executeEffect(new Aggregate({ events })))
      }),
      encodeArchive: Effect.fn("AnalyticsWorkers.encodeArchive")(function*(lines) {
        return yield* run("EncodeArchive", pool.executeEffect(new EncodeArchive({ lines })))
      })
    })
  })
