import { describe, expect, it } from "vitest"
import { formatTraceparent, parseTraceparent } from "../../src/domain/TraceContext.js"

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
