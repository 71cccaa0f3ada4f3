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
