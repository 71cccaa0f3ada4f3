import { Headers } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FiberRef, type Tracer } from "effect"
import { headerAttributes } from "../../src/http/EventsRoute.js"

describe("the POST /events route's server span", () => {
  it.effect("records headers as the platform's tracer does: credentials redacted, by name or by pattern", () =>
    Effect.gen(function*() {
      const attributes = new Map<string, unknown>()
      const span = { attribute: (key: string, value: unknown) => void attributes.set(key, value) } as unknown as Tracer.Span
      const names = yield* FiberRef.get(Headers.currentRedactedNames)
      const headers = { authorization: "Bearer secret", cookie: "a=1", "content-type": "application/json", "x-api-key": "k", "x-secret-1": "s" }
      headerAttributes(span, "http.request.header.", headers, [...names, /^x-secret-/])
      expect(Object.fromEntries(attributes)).toEqual({
        "http.request.header.authorization": "<redacted>",
        "http.request.header.cookie": "<redacted>",
        "http.request.header.content-type": "application/json",
        "http.request.header.x-api-key": "<redacted>",
        "http.request.header.x-secret-1": "<redacted>"
      })
      // The same as the platform's own redaction.
      const redacted = Headers.redact(Headers.fromInput(headers), [...names, /^x-secret-/])
      for (const [name, value] of Object.entries(redacted)) expect(attributes.get(`http.request.header.${name}`)).toBe(String(value))
    }))
})
