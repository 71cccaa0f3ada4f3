import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Metrics } from "../../src/services/Metrics.js"

describe("Metrics", () => {
  it.live("renders the process's own metrics beside the domain's: memory, heap, event-loop lag, GC", () =>
    Effect.gen(function*() {
      const metrics = yield* Metrics
      metrics.published.inc({ event_type: "ProductCreated" })
      const text = yield* metrics.render
      for (const name of ["events_published_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds", "nodejs_gc_duration_seconds"]) {
        expect(text).toMatch(new RegExp(`^# TYPE ${name} `, "m"))
      }
      expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m)
    }).pipe(Effect.provide(Metrics.Default)))
})
