import { Tracer } from "effect"

/**
 * W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/) as carried in a Kafka record's
 * headers, so that one trace runs from `POST /events` through the consumers.
 */
export const traceparentHeader = "traceparent"

export interface SpanContext {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

const pattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** `00-<trace id>-<span id>-<flags>`. */
export const formatTraceparent = (span: SpanContext): string =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/** The span a `traceparent` names; undefined when it is malformed, of version ff, or all-zero ids (the spec's invalid values). */
export const parseTraceparent = (value: string | undefined): SpanContext | undefined => {
  const match = value === undefined ? null : pattern.exec(value.trim())
  if (match === null) return undefined
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string]
  if (version === "ff" || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 }
}

/**
 * The span an event's work belongs to, for what is done with it later (a batch, a push): `current` (the
 * span handling it, e.g. in a consumer segment's) when that is in the event's trace or the event carries
 * none, otherwise the producer span its `traceparent` names. A consumer segment's span is in its first
 * record's trace only: the segment's other events keep their own trace this way.
 */
export const eventContext = (traceparent: string | undefined, current: Tracer.AnySpan | undefined): Tracer.AnySpan | undefined => {
  if (traceparent === undefined || (current !== undefined && traceparent.startsWith(current.traceId, 3))) return current
  const parsed = parseTraceparent(traceparent)
  return parsed === undefined ? current : Tracer.externalSpan(parsed)
}

/**
 * A span over many records' work (an analytics batch, a consumer segment) links to at most this many
 * distinct traces, one link each (OpenTelemetry's default span link limit is 128).
 */
export const maxBatchLinks = 32

/** Where a batch's span stands in the traces of the events it holds. */
export interface BatchRelations {
  /** The events' context when they all belong to one trace: the batch is then a child in it. */
  readonly parent: Tracer.AnySpan | undefined
  /** Otherwise one link per trace, to its first event's context, for the first `max` distinct traces. */
  readonly links: ReadonlyArray<Tracer.SpanLink>
}

/**
 * OpenTelemetry's messaging conventions for batch processing: a span processing messages of several
 * traces links to each message's creation context; one of a single trace is simply its child. Events
 * without a context are left out. Bounded: a batch of thousands of events makes at most `max` links.
 */
export const batchRelations = (contexts: Iterable<Tracer.AnySpan | undefined>, max: number = maxBatchLinks): BatchRelations => {
  let first: Tracer.AnySpan | undefined
  const links: Array<Tracer.SpanLink> = []
  const traces = new Set<string>()
  for (const context of contexts) {
    if (context === undefined || traces.has(context.traceId)) continue
    if (traces.size >= max) break
    first ??= context
    traces.add(context.traceId)
    links.push({ _tag: "SpanLink", span: context, attributes: {} })
  }
  return traces.size === 1 ? { parent: first, links: [] } : { parent: undefined, links }
}
