import * as Worker from "@effect/platform/Worker"
import type { WorkerError } from "@effect/platform/WorkerError"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Config, type ConfigError, Context, Data, Deferred, Duration, Effect, ExecutionStrategy, Exit, Fiber, Layer, type ParseResult, Scope } from "effect"
import { availableParallelism } from "node:os"
import * as WorkerThreads from "node:worker_threads"
import type { Delta } from "../domain/MetricsDelta.js"
import { type AnalyticsRequest, Aggregate, EncodeArchive, type InvalidEvents, type LifecycleEventJson } from "./AnalyticsRequests.js"
import * as Tasks from "./AnalyticsTasks.js"

/** No worker could be started (e.g. its entry fails at import): terminal, the service cannot run. */
export class WorkerStartError extends Data.TaggedError("WorkerStartError")<{
  readonly entry: string
  readonly cause: unknown
}> {
  readonly retriable = false
  override get message() {
    const reason = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `analytics worker ${this.entry} failed to start: ${reason}`
  }
}

/** A task failed in a started worker (it crashed, or a message could not be passed): worth another try. */
export class WorkerTaskError extends Data.TaggedError("WorkerTaskError")<{
  readonly task: AnalyticsRequest["_tag"]
  readonly cause: unknown
}> {
  readonly retriable = true
}

export type AnalyticsWorkerError = WorkerStartError | WorkerTaskError

export interface PoolOptions {
  readonly size: number
  /** The worker entry module (default: `analytics-worker.mjs` beside this module). */
  readonly entry?: URL
  /** How long the pool may take to start all its workers. Default 30 seconds. */
  readonly startTimeout?: Duration.DurationInput
}

export const defaultEntry = new URL("./analytics-worker.mjs", import.meta.url)
export const defaultPoolSize = (): number => Math.max(1, availableParallelism() - 1)

/** Batch aggregation and archive encoding, off the event loop. */
export class AnalyticsWorkers extends Context.Tag("product-events/AnalyticsWorkers")<
  AnalyticsWorkers,
  {
    /** Worker threads in the pool; 0 when running inline. */
    readonly size: number
    /** Per-seller deltas of a batch of lifecycle events (sellers with nothing to change left out). */
    readonly aggregate: (
      events: ReadonlyArray<LifecycleEventJson>
    ) => Effect.Effect<Record<string, Delta>, InvalidEvents | AnalyticsWorkerError>
    /** Gzipped NDJSON of the lines, deterministic. */
    readonly encodeArchive: (lines: ReadonlyArray<string>) => Effect.Effect<Uint8Array, AnalyticsWorkerError>
  }
>() {
  /** A pool of worker threads of the given size and entry. Fails when a worker cannot start. */
  static readonly layerPool = (options: PoolOptions): Layer.Layer<AnalyticsWorkers, WorkerStartError> =>
    Layer.scoped(AnalyticsWorkers, makePool(options))

  /** The pool sized by `ANALYTICS_WORKERS` (default: available cores - 1, at least 1). */
  static readonly layer: Layer.Layer<AnalyticsWorkers, WorkerStartError | ConfigError.ConfigError> =
    Layer.unwrapEffect(
      Config.integer("ANALYTICS_WORKERS").pipe(
        Config.validate({ message: "must be at least 1", validation: (n) => n >= 1 }),
        Config.withDefault(defaultPoolSize()),
        Effect.map((size) => AnalyticsWorkers.layerPool({ size }))
      )
    )

  /** The same work on the calling thread: for unit tests of callers. */
  static readonly layerInline: Layer.Layer<AnalyticsWorkers> = Layer.succeed(AnalyticsWorkers, {
    size: 0,
    aggregate: Tasks.aggregate,
    encodeArchive: Tasks.encode
  })
}

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
