import { describe, expect, it } from "vitest"
import { Tracer } from "effect"
import { batchRelations, eventContext, formatTraceparent, maxBatchLinks, parseTraceparent } from "../../src/domain/TraceContext.js"

describe("traceparent", () => {
  const span = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true }

  it("formats and parses back", () => {
    expect(formatTraceparent(span)).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    expect(parseTraceparent(formatTraceparent(span))).toEqual(span)
    expect(parseTraceparent(formatTraceparent({ ...span, sampled: false }))).toEqual({ ...span, sampled: false })
  })

  it("refuses what the spec calls invalid", () => {
    for (
      const bad of [
        undefined,
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
      ]
    ) expect(parseTraceparent(bad)).toBeUndefined()
  })
})

describe("an event's context, and a batch's place in its events' traces", () => {
  const producer = (trace: string, span: string) => Tracer.externalSpan({ traceId: trace.repeat(32), spanId: span.repeat(16), sampled: true })
  const header = (trace: string, span: string) => `00-${trace.repeat(32)}-${span.repeat(16)}-01`

  it("the span handling the event when it is in the event's trace (or the event has none), else the event's producer", () => {
    const handling = producer("a", "2")
    expect(eventContext(header("a", "1"), handling)).toBe(handling)
    expect(eventContext(undefined, handling)).toBe(handling)
    expect(eventContext("garbage", handling)).toBe(handling)
    expect(eventContext(header("b", "3"), handling)).toMatchObject({ traceId: "b".repeat(32), spanId: "3".repeat(16) })
    expect(eventContext(header("b", "3"), undefined)).toMatchObject({ traceId: "b".repeat(32), spanId: "3".repeat(16) })
    expect(eventContext(undefined, undefined)).toBeUndefined()
  })

  it("one trace: a child of its first event's context, no links", () => {
    const first = producer("a", "1")
    expect(batchRelations([undefined, first, producer("a", "2"), undefined])).toEqual({ parent: first, links: [] })
  })

  it("several traces: no parent, one link per trace to its first context, in order", () => {
    const relations = batchRelations([producer("a", "1"), producer("b", "2"), producer("a", "3"), undefined, producer("c", "4")])
    expect(relations.parent).toBeUndefined()
    expect(relations.links.map((l) => [l.span.traceId[0], l.span.spanId[0]])).toEqual([["a", "1"], ["b", "2"], ["c", "4"]])
  })

  it("links bounded to the first maxBatchLinks traces however large the batch", () => {
    const hex = (n: number, width: number) => n.toString(16).padStart(width, "0")
    const contexts = Array.from({ length: 5000 }, (_, i) => Tracer.externalSpan({ traceId: hex(i + 1, 32), spanId: hex(i + 1, 16) }))
    const { links, parent } = batchRelations(contexts)
    expect(parent).toBeUndefined()
    expect(links).toHaveLength(maxBatchLinks)
    expect(links.map((l) => l.span.traceId)).toEqual(contexts.slice(0, maxBatchLinks).map((c) => c.traceId))
  })

  it("no contexts: neither parent nor links", () => {
    expect(batchRelations([undefined, undefined])).toEqual({ parent: undefined, links: [] })
  })
})
