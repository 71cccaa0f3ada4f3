import { describe, expect, it } from "vitest"
import { Arbitrary, FastCheck, Schema } from "effect"
import { eventSchemas, ProductEvent } from "../../src/domain/ProductEvent.js"
import { ajvValidate, decoderIssues } from "../support/validators.js"

const encode = Schema.encodeSync(ProductEvent)
const decode = Schema.decodeUnknownSync(ProductEvent)

/** What goes over the wire: the encoded event after a JSON round trip. */
const toJson = (event: ProductEvent): unknown => JSON.parse(JSON.stringify(encode(event)))

const agrees = (event: ProductEvent) => {
  const json = toJson(event)
  expect(decoderIssues(json)).toEqual([])
  expect(ajvValidate(json), JSON.stringify(ajvValidate.errors)).toBe(true)
  expect(encode(decode(json))).toEqual(json)
}

describe("generated valid events pass both validators and re-encode to the same JSON", () => {
  it("any ProductEvent (1000 runs)", () => {
    FastCheck.assert(FastCheck.property(Arbitrary.make(ProductEvent), agrees), { numRuns: 1000 })
  })

  it.each(Object.entries(eventSchemas))("%s (200 runs)", (_, schema) => {
    const arbitrary = Arbitrary.make(schema as Schema.Schema<ProductEvent, unknown>)
    FastCheck.assert(FastCheck.property(arbitrary, agrees), { numRuns: 200 })
  })
})
