import { ConfigProvider, Context, Effect, Exit, Layer, Scope, TestClock } from "effect"
import { deadLetterTopic } from "../../src/domain/Consumers.js"
import type { LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import * as EventLogMemory from "../../src/layers/EventLogMemory.js"
import * as MetricsStoreMemory from "../../src/layers/MetricsStoreMemory.js"
import * as ObjectStoreMemory from "../../src/layers/ObjectStoreMemory.js"
import { AnalyticsArchive } from "../../src/services/AnalyticsArchive.js"
import type { LogRecord } from "../../src/services/EventLog.js"
import { MetricsStore, MetricsStoreError } from "../../src/services/MetricsStore.js"
import * as AnalyticsWorkersInline from "../../src/workers/AnalyticsWorkersInline.js"
import { baseMillis, encode } from "../support/events.js"

/** What the pipeline runs on, in memory: the stores survive a pipeline's crash, as the servers do a process's. */
export const Stores = Layer.mergeAll(
  MetricsStoreMemory.layerMemory,
  ObjectStoreMemory.layerMemory,
  EventLogMemory.layerMemory({ topics: { [deadLetterTopic("analytics-service")]: 1 } }),
  AnalyticsWorkersInline.layerInline
)

/**
 * The pipeline's configuration in these tests: archive files roll at 1 MiB, 60 s of age or 5 s idle (the first
 * files too), looked for every second; `overrides` (other settings, `HOT_*`) on top.
 */
export const pipelineSettings = (overrides: Readonly<Record<string, string>> = {}): Layer.Layer<never> =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({
    ARCHIVE_MAX_BYTES: String(1 << 20),
    ARCHIVE_MAX_AGE: "60 seconds",
    ARCHIVE_IDLE: "5 seconds",
    ARCHIVE_TICK: "1 second",
    ARCHIVE_FIRST_BYTES: String(1 << 20),
    ARCHIVE_FIRST_AGE: "60 seconds",
    ...overrides
  }))))

/**
 * A fresh analytics pipeline (as after a process start) over `stores`, with `settings` (a config
 * layer), in a scope of its own: `close` stops it without flushing anything, as a crash would.
 */
export const pipelineOver = (stores: Context.Context<any>, settings: Layer.Layer<never>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      AnalyticsArchive.Default.pipe(Layer.provide(Layer.succeedContext(stores)), Layer.provide(settings)),
      scope
    )
    return { archive: Context.get(context, AnalyticsArchive), close: Scope.close(scope, Exit.void) }
  })

/** A lifecycle event as the record the engine hands the pipeline. */
export const recordOf = (event: LifecycleEvent, partition: number, offset: number): LogRecord => ({
  topic: "product-events",
  partition,
  offset,
  key: event.data.sellerId,
  value: new TextEncoder().encode(JSON.stringify(encode(event))),
  headers: { eventType: event.eventType },
  timestamp: baseMillis
})

/**
 * A real store whose metric writes are throttled (fail, writing nothing) until the test clock reaches
 * the time given to `healAt` (never, until it is called).
 */
export const throttledUntilHealed = (store: MetricsStore["Type"]) => {
  let healthyFrom = Infinity
  return {
    store: MetricsStore.of({
      ...store,
      apply: (update) =>
        Effect.flatMap(TestClock.currentTimeMillis, (now) =>
          now >= healthyFrom ? store.apply(update) : Effect.fail(new MetricsStoreError({ operation: "apply", cause: "throttled" })))
    }),
    healAt: (millis: number) => {
      healthyFrom = millis
    }
  }
}
