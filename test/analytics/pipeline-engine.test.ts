import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, TestClock } from "effect"
import type { SellerId } from "../../src/domain/Ids.js"
import { fromStoreItems } from "../../src/domain/SellerMetrics.js"
import * as MetricsStoreMemory from "../../src/layers/MetricsStoreMemory.js"
import * as ObjectStoreMemory from "../../src/layers/ObjectStoreMemory.js"
import { AnalyticsArchive, consumerOptions } from "../../src/services/AnalyticsArchive.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import * as AnalyticsWorkersInline from "../../src/workers/AnalyticsWorkersInline.js"
import { committedOf, event, partitions, publish, TestLayer } from "../engine/fixtures.js"

const settings = Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ARCHIVE_IDLE", "5 seconds"], ["ARCHIVE_FIRST_AGE", "60 seconds"], ["HOT_MAX_WAIT", "500 millis"]])))

const Stack = AnalyticsArchive.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(TestLayer, MetricsStoreMemory.layerMemory, ObjectStoreMemory.layerMemory, AnalyticsWorkersInline.layerInline)),
  Layer.provide(settings)
)

const committedAll = Effect.map(
  Effect.forEach(Array.from({ length: partitions }, (_, p) => p), (p) => committedOf("analytics-service", p)),
  (offsets) => offsets.reduce((n, o) => n + Math.max(o, 0), 0)
)

describe("analytics pipeline behind the consumer engine", () => {
  it.scoped("commits a record only once both paths have it: metrics first, the commit after the upload", () =>
    Effect.gen(function*() {
      const archive = yield* AnalyticsArchive
      yield* Effect.forkScoped(ConsumerEngine.run(consumerOptions(archive)))
      const sellers = ["eng_a", "eng_b", "eng_c", "eng_d", "eng_e"]
      yield* publish(...sellers.flatMap((s) => [0, 1].map((n) => event(s, n))))
      yield* TestClock.adjust("600 millis")
      const store = yield* MetricsStore
      for (const seller of sellers) {
        const metrics = fromStoreItems(seller as SellerId, yield* store.query(seller, ""))
        expect(metrics.activeProducts).toBe(2)
      }
      yield* TestClock.adjust("1 second")
      expect(yield* committedAll).toBe(0)
      yield* TestClock.adjust("5 seconds")
      expect(yield* committedAll).toBe(sellers.length * 2)
    }).pipe(Effect.provide(Stack)))
})
