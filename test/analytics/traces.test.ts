import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option, Tracer } from "effect"
import type { LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { maxBatchLinks } from "../../src/domain/TraceContext.js"
import type { LogRecord } from "../../src/services/EventLog.js"
import { eventContexts } from "../../src/services/SpanExport.js"
import { created } from "../support/events.js"
import { recordingTracer } from "../support/recordingTracer.js"
import { pipelineOver, recordOf, Stores } from "./pipelineSupport.js"

/**
 * The analytics update in the events' traces: the hot batch (and its store apply) and the archive upload
 * run in fibers of their own, later; where spans are exported, each stands in the traces of the events it
 * holds, a child in a trace of its own events, or linked to the traces of a mixed batch.
 */

const settings = Layer.setConfigProvider(ConfigProvider.fromMap(new Map([
  ["ARCHIVE_FIRST_BYTES", String(1 << 20)],
  ["ARCHIVE_FIRST_AGE", "60 seconds"],
  ["HOT_MAX_EVENTS", "100"],
  ["HOT_MAX_WAIT", "500 millis"]
])))

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0")
const producer = (n: number) => Tracer.externalSpan({ traceId: hex(n, 32), spanId: hex(n, 16), sampled: true })
const traced = (record: LogRecord, span: Tracer.AnySpan): LogRecord => ({
  ...record,
  headers: { ...record.headers, traceparent: `00-${span.traceId}-${span.spanId}-01` }
})
const events = (n: number) => Array.from({ length: n }, (_, i) => created("trace_seller", `p${i}`) as LifecycleEvent)

describe("analytics spans", () => {
  it.scoped("one trace: the hot batch, its apply and the upload are in it, under the span that appended its events", () => {
    const recorded = recordingTracer()
    return Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* pipelineOver(stores, settings)
      const origin = producer(1)
      // As the engine runs it: the segment's span, a child of the records' producer span.
      yield* Effect.forEach(events(3), (event, offset) => archive.append(traced(recordOf(event, 0, offset), origin), event, () => {}))
        .pipe(Effect.withSpan("analytics-service process", { parent: origin }))
      yield* archive.flushAll

      const [batch] = recorded.named("HotPath.batch")
      expect(batch!.traceId).toBe(origin.traceId)
      expect(Option.map(batch!.parent, (p) => p._tag === "Span" && p.name)).toEqual(Option.some("AnalyticsArchive.append"))
      expect(batch!.links).toEqual([])
      expect(batch!.attributes.get("messaging.batch.message_count")).toBe(3)
      expect(Option.map(recorded.named("HotMetrics.apply")[0]!.parent, (p) => p.spanId)).toEqual(Option.some(batch!.spanId))
      const uploads = recorded.named("ColdPath.upload")
      expect(uploads.length).toBeGreaterThan(0)
      for (const upload of uploads) expect(upload.traceId).toBe(origin.traceId)
    }).pipe(Effect.withTracer(recorded.tracer))
  })

  it.scoped("events of many traces: a root batch span linking to the first traces, bounded", () => {
    const recorded = recordingTracer()
    return Effect.gen(function*() {
      const stores = yield* Layer.build(Stores)
      const { archive } = yield* pipelineOver(stores, settings)
      const all = events(maxBatchLinks + 8)
      yield* archive.appendChunk(
        all.map((event, offset) => ({ event, record: traced(recordOf(event, 0, offset), producer(offset + 1)), defer: () => () => {} })),
        () => false
      ).pipe(Effect.withSpan("analytics-service process", { parent: producer(1) }))
      yield* archive.flushAll

      const [batch] = recorded.named("HotPath.batch")
      expect(Option.isNone(batch!.parent)).toBe(true)
      expect(batch!.links).toHaveLength(maxBatchLinks)
      // The first event is in the segment's trace: its link goes to the span that appended it.
      expect(batch!.links[0]!.span).toMatchObject({ traceId: producer(1).traceId, name: "AnalyticsArchive.appendChunk" })
      expect(batch!.links.slice(1).map((l) => l.span.spanId)).toEqual(all.slice(1, maxBatchLinks).map((_, i) => producer(i + 2).spanId))
    }).pipe(Effect.withTracer(recorded.tracer))
  })

  it.effect("on Effect's native tracer nothing is carried: no contexts for the entries", () =>
    Effect.gen(function*() {
      expect(yield* eventContexts).toBeUndefined()
      const recorded = recordingTracer()
      expect(yield* Effect.withTracer(eventContexts, recorded.tracer)).toBeTypeOf("function")
    }))
})
