import { describe, expect, it, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import * as fc from "fast-check"
import { decodeArchive, encodeArchive, ndjson } from "../../src/domain/ArchiveEncoding.js"
import { deltasBySeller } from "../../src/domain/MetricsDelta.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import type { LifecycleEventJson } from "../../src/workers/AnalyticsRequests.js"
import * as AnalyticsWorkerPool from "../../src/workers/AnalyticsWorkerPool.js"
import { AnalyticsWorkers, WorkerStartError } from "../../src/workers/AnalyticsWorkers.js"
import * as AnalyticsWorkersInline from "../../src/workers/AnalyticsWorkersInline.js"
import { encode } from "../support/events.js"
import { gunzipSync } from "node:zlib"
import { lifecycleEvents } from "../support/lifecycles.js"

const batch: ReadonlyArray<ProductEvent> = fc.sample(lifecycleEvents, { numRuns: 30, seed: 4 }).flat()
const wire = batch.map((e) => encode(e) as LifecycleEventJson)
const lines = wire.map((e) => JSON.stringify(e))

const suite = (name: string, workers: Layer.Layer<AnalyticsWorkers, unknown>) =>
  layer(workers, { timeout: 30_000 })(name, (it) => {
    it.effect("aggregates a batch into the same per-seller deltas as the pure function", () =>
      Effect.gen(function*() {
        const pool = yield* AnalyticsWorkers
        expect(yield* pool.aggregate(wire)).toEqual(deltasBySeller(batch))
      }))

    it.effect("handles batches submitted concurrently", () =>
      Effect.gen(function*() {
        const pool = yield* AnalyticsWorkers
        const chunk = <A>(items: ReadonlyArray<A>, i: number) => items.filter((_, j) => j % 6 === i)
        const indexes = [0, 1, 2, 3, 4, 5]
        const results = yield* Effect.forEach(indexes, (i) => pool.aggregate(chunk(wire, i)), { concurrency: "unbounded" })
        expect(results).toEqual(indexes.map((i) => deltasBySeller(chunk(batch, i))))
      }))

    it.effect("refuses a batch holding an invalid event", () =>
      Effect.gen(function*() {
        const pool = yield* AnalyticsWorkers
        const forged = { ...wire[0]!, eventId: "s1-p1-ProductCreated-1000000000000" }
        const error = yield* Effect.flip(pool.aggregate([forged]))
        expect(error._tag).toBe("InvalidEvents")
        expect(error.retriable).toBe(false)
      }))

    it.effect("encodes NDJSON that gunzips to the lines, byte-identical across encodings", () =>
      Effect.gen(function*() {
        const pool = yield* AnalyticsWorkers
        const first = yield* pool.encodeArchive(lines)
        const second = yield* pool.encodeArchive(lines)
        expect(first).toBeInstanceOf(Uint8Array)
        expect([...first.subarray(4, 8)]).toEqual([0, 0, 0, 0]) // gzip header MTIME: none
        expect(gunzipSync(first).toString("utf8")).toBe(ndjson(lines))
        expect(decodeArchive(first)).toEqual(lines)
        expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true)
        expect(Buffer.from(encodeArchive(lines)).equals(Buffer.from(first))).toBe(true)
      }))
  })

suite("AnalyticsWorkerPool.layer (2 worker threads)", AnalyticsWorkerPool.layer({ size: 2 }))
suite("AnalyticsWorkersInline.layerInline", AnalyticsWorkersInline.layerInline)

describe("AnalyticsWorkers start failure", () => {
  it.live("a worker entry that throws at import fails the service with a clear error, within a bounded time", () =>
    Effect.gen(function*() {
      const entry = new URL("./fixtures/throwing-worker.mjs", import.meta.url)
      const exit = yield* Layer.build(AnalyticsWorkerPool.layer({ size: 2, entry })).pipe(
        Effect.scoped,
        Effect.timeout("10 seconds"),
        Effect.exit
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
      expect(error?._tag).toBe("Some")
      const failure = error?._tag === "Some" ? error.value : undefined
      expect(failure).toBeInstanceOf(WorkerStartError)
      expect((failure as WorkerStartError).retriable).toBe(false)
      expect((failure as WorkerStartError).message).toContain("throwing-worker.mjs failed to start: boom at import")
    }))
})
