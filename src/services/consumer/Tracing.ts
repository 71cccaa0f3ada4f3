import { Effect, Tracer } from "effect"
import { parseTraceparent, traceparentHeader } from "../../domain/TraceContext.js"
import type { RunSegment } from "./LaneLoop.js"

/** Links at most this many other producers' spans to a segment's span. */
const maxLinks = 32

/**
 * A segment's handling as one consumer span: a child of its first record's producer span (the
 * record's `traceparent`), so the trace of `POST /events` goes on into the handler's store writes and
 * publishes; the other records' producer spans are linked. A span per segment, not per record.
 */
export const traceSegments = <E, R>(group: string, run: RunSegment<E, R>): RunSegment<E, R> => (items) => {
  let parent: Tracer.AnySpan | undefined
  const links: Array<Tracer.SpanLink> = []
  for (const item of items) {
    const context = parseTraceparent(item.record.headers[traceparentHeader])
    if (context === undefined) continue
    if (parent === undefined) parent = Tracer.externalSpan(context)
    else if (links.length < maxLinks && context.traceId !== parent.traceId) {
      links.push({ _tag: "SpanLink", span: Tracer.externalSpan(context), attributes: {} })
    }
  }
  return run(items).pipe(Effect.withSpan(`${group} process`, {
    kind: "consumer",
    ...(parent === undefined ? { root: true } : { parent }),
    links,
    attributes: { "messaging.consumer.group.name": group, "messaging.batch.message_count": items.length }
  }))
}
