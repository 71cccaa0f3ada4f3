import { Effect, Tracer } from "effect"
import { maxBatchLinks, parseTraceparent, traceparentHeader } from "../../domain/TraceContext.js"
import { exportsSpans } from "../SpanExport.js"
import type { RunSegment } from "./LaneLoop.js"

/**
 * A segment's handling as one consumer span: a child of its first record's producer span (the
 * record's `traceparent`), so the trace of `POST /events` goes on into the handler's store writes and
 * publishes; its records' other traces are linked, each to the producer span of its first record there,
 * up to `maxBatchLinks` traces (as an analytics batch's span). A span per segment, not per record: a
 * record costs a header read and a string comparison or two, and a parse only for a trace not seen yet.
 * Only where spans are exported: on Effect's native tracer the span would cost the engine a third of its
 * throughput and reach no one.
 */
export const traceSegments = <E, R>(group: string, run: RunSegment<E, R>): RunSegment<E, R> => (items) =>
  Effect.tracerWith((tracer) => (exportsSpans(tracer) ? traced(group, run, items) : run(items)))

const traced = <E, R>(group: string, run: RunSegment<E, R>, items: Parameters<RunSegment<E, R>>[0]) => {
  const first = items[0]?.record.headers[traceparentHeader]
  const context = parseTraceparent(first)
  if (context === undefined) return run(items)
  const parent = Tracer.externalSpan(context)
  const links: Array<Tracer.SpanLink> = []
  const traces = new Set([parent.traceId])
  let last = first
  for (let i = 1; i < items.length && links.length < maxBatchLinks; i++) {
    const header = items[i]!.record.headers[traceparentHeader]
    if (header === undefined || header === last) continue
    last = header
    // `00-<trace id>-…`: a trace the span has already is passed over unparsed.
    if (traces.has(header.slice(3, 35))) continue
    const linked = parseTraceparent(header)
    if (linked === undefined || traces.has(linked.traceId)) continue
    traces.add(linked.traceId)
    links.push({ _tag: "SpanLink", span: Tracer.externalSpan(linked), attributes: {} })
  }
  return run(items).pipe(Effect.withSpan(`${group} process`, {
    kind: "consumer",
    parent,
    links,
    attributes: { "messaging.consumer.group.name": group, "messaging.batch.message_count": items.length }
  }))
}
