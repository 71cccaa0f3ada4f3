import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, TestClock, Tracer } from "effect"
import { analyticsService, notificationService, productEventsTopic } from "../../src/domain/Consumers.js"
import type { ChunkItem } from "../../src/services/consumer/Handler.js"
import { maxBatchLinks } from "../../src/domain/TraceContext.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { traceSegments } from "../../src/services/consumer/Tracing.js"
import { EventLog } from "../../src/services/EventLog.js"
import { created } from "../support/events.js"
import { event, message, TestLayer } from "./fixtures.js"

const traceparent = (trace: string, span: string) => `00-${trace.repeat(32)}-${span.repeat(16)}-01`
const item = (header: string | undefined): ChunkItem => ({
  event: created("s1", "p1"),
  record: { topic: "product-events", partition: 0, offset: 0, key: "s1", value: new Uint8Array(), headers: header === undefined ? {} : { traceparent: header }, timestamp: 0 },
  defer: () => () => {}
})
/** A segment runner that reports the span it runs in. */
const spanOfRun = () => {
  const seen: Array<Option.Option<Tracer.Span>> = []
  const run = () => Effect.map(Effect.option(Effect.currentSpan), (span) => (seen.push(span), [Exit.void]))
  return { seen, run }
}

/** A tracer that exports (not Effect's native one), recording each span started, then starting it natively. */
const recording = (native: Tracer.Tracer) => {
  const started: Array<{ name: string; parent: Option.Option<Tracer.AnySpan>; links: ReadonlyArray<Tracer.SpanLink> }> = []
  const exporting = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      started.push({ name, parent, links })
      return native.span(name, parent, context, links, startTime, kind, options)
    },
    context: (f) => f()
  })
  return { exporting, started }
}

describe("consumer spans (traceSegments)", () => {
  it.effect("where spans are exported: one span per segment, a child of the first record's producer, others linked", () =>
    Effect.gen(function*() {
      const { exporting, started } = recording(yield* Effect.tracer)
      const { run, seen } = spanOfRun()
      const first = traceparent("a", "1")
      yield* traceSegments("notification-service", run)([item(first), item(first), item(traceparent("b", "2")), item(undefined)]).pipe(
        Effect.withTracer(exporting)
      )
      const segment = started.find((s) => s.name === "notification-service process")!
      expect(Option.map(segment.parent, (p) => [p.traceId, p.spanId])).toEqual(Option.some(["a".repeat(32), "1".repeat(16)]))
      expect(segment.links.map((l) => l.span.traceId)).toEqual(["b".repeat(32)])
      expect(Option.map(seen[0]!, (s) => s.name)).toEqual(Option.some("notification-service process"))
    }))

  it.effect("links each other trace once, to its first record's producer, up to maxBatchLinks traces", () =>
    Effect.gen(function*() {
      const { exporting, started } = recording(yield* Effect.tracer)
      const hex = (n: number, width: number) => n.toString(16).padStart(width, "0")
      const header = (trace: number, span: number) => `00-${hex(trace, 32)}-${hex(span, 16)}-01`
      // The first record's trace, then records of 40 other traces, two producer spans each, interleaved.
      const others = Array.from({ length: 80 }, (_, i) => item(header(2 + (i % 40), 1 + i)))
      const { run } = spanOfRun()
      yield* traceSegments("analytics-service", run)([item(header(1, 1)), item(header(1, 2)), ...others]).pipe(Effect.withTracer(exporting))
      expect(started[0]!.links.map((l) => [l.span.traceId, l.span.spanId])).toEqual(
        Array.from({ length: maxBatchLinks }, (_, i) => [hex(2 + i, 32), hex(1 + i, 16)])
      )
    }))

  it.effect("on Effect's native tracer (nothing exported): no span of its own", () =>
    Effect.gen(function*() {
      const { run, seen } = spanOfRun()
      yield* traceSegments("notification-service", run)([item(traceparent("a", "1"))])
      expect(Option.isNone(seen[0]!)).toBe(true)
    }))
})

describe("the consumer dispatcher's span gate", () => {
  it.effect("a synchronous handler's records: handled in the dispatcher, no lane, where nothing is exported; through the lanes, in consumer spans, where spans are exported", () =>
    Effect.gen(function*() {
      const events = Array.from({ length: 6 }, (_, n) => event(`seller_${n % 3}`, n))
      const producers = events.map((_, n) => String(n + 1))
      yield* Effect.flatMap(EventLog, (log) =>
        log.produce(productEventsTopic, events.map((e, n) => {
          const produced = message(e)
          return { ...produced, headers: { ...produced.headers, traceparent: traceparent(producers[n]!, producers[n]!) } }
        })))
      const consume = (contract: typeof notificationService) => {
        const stats = new ConsumerEngine.EngineStats()
        const handled: Array<string> = []
        const run = ConsumerEngine.run({ contract, stats, handle: (e) => (handled.push(e.eventId), Effect.void) })
        return { stats, handled, run }
      }

      // Effect's native tracer: nothing exported, so no span is worth a lane.
      const quiet = consume(notificationService)
      const quietFiber = yield* Effect.fork(quiet.run)
      yield* TestClock.adjust("1 second")
      expect([...quiet.handled].sort()).toEqual(events.map((e) => e.eventId).sort())
      expect(quiet.stats.peakLiveLanes).toBe(0)

      // A tracer that exports: every record goes through a lane, in a segment's span joined to its producer's trace.
      const { exporting, started } = recording(yield* Effect.tracer)
      const traced = consume(analyticsService)
      const tracedFiber = yield* Effect.fork(Effect.withTracer(traced.run, exporting))
      yield* TestClock.adjust("1 second")
      expect([...traced.handled].sort()).toEqual(events.map((e) => e.eventId).sort())
      expect(traced.stats.peakLiveLanes).toBeGreaterThan(0)
      const segments = started.filter((s) => s.name === "analytics-service process")
      expect(segments.length).toBeGreaterThan(0)
      const joined = segments.flatMap((s) => [...Option.toArray(s.parent), ...s.links.map((l) => l.span)].map((span) => span.traceId))
      expect(new Set(joined)).toEqual(new Set(producers.map((p) => p.repeat(32))))

      yield* Fiber.interrupt(quietFiber)
      yield* Fiber.interrupt(tracedFiber)
    }).pipe(Effect.provide(TestLayer)))
})
