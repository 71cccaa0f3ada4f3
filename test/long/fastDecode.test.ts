import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ProductEvent } from "../../src/domain/ProductEvent.js"
import { validProductEvent } from "../../src/domain/ProductEventFast.js"
import { agree } from "../support/validators.js"
import { type Json, pathsOf, setAt } from "../support/jsonPaths.js"

const encode = Schema.encodeSync(ProductEvent)
const toJson = (event: ProductEvent): Json => JSON.parse(JSON.stringify(encode(event)))

/** Values near the rules' edges, besides arbitrary JSON. */
const edgeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    -1, 0, -0, 1, 1.5, 5, 1e9, 1e9 + 1, 2 ** 53 - 1, 2 ** 53, null, true, "", "a", "EUR", "eur", "XXX",
    "home/lighting", "Home", "a-", "seller_42", "seller-42", "x".repeat(64), "x".repeat(65), "n".repeat(200), "n".repeat(201), "c".repeat(100), "c".repeat(101),
    "2026-11-26T20:24:14.123Z", "2026-11-26T20:24:14Z", "2026-02-30T00:00:00.000Z", "ProductCreated", "ProductUpdated",
    "ProductDeleted", "LowStockWarning", { amountMinor: 4999, currency: "EUR" }, { before: 1, after: 2 }, [], {}
  ),
  fc.jsonValue() as fc.Arbitrary<Json>
)

/** A valid event, with one value replaced (by an edge value or one taken from elsewhere in the event) or removed. */
const mutated = fc.tuple(Arbitrary.make(ProductEvent), fc.nat(), fc.nat(), fc.oneof(edgeValue, fc.constant(undefined), fc.constant("borrow" as const)))
  .map(([event, at, from, replacement]) => {
    const json = toJson(event)
    const paths = pathsOf(json)
    const path = paths[at % paths.length]!
    if (replacement !== "borrow") return setAt(json, path, replacement)
    const source = paths[from % paths.length]!
    const borrowed = source.reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, json)
    return setAt(json, path, structuredClone(borrowed))
  })

/** A valid event with extra properties and its keys in another order: the schema ignores both. */
const reshaped = fc.tuple(Arbitrary.make(ProductEvent), fc.dictionary(fc.string(), fc.jsonValue() as fc.Arbitrary<Json>, { maxKeys: 3 }))
  .map(([event, extra]) => {
    const reverse = (json: Json): Json =>
      json === null || typeof json !== "object" || Array.isArray(json)
        ? json
        : Object.fromEntries(Object.entries(json).reverse().map(([k, v]) => [k, reverse(v)]))
    const json = reverse(toJson(event)) as { [key: string]: Json }
    return { ...extra, ...json, data: { ...extra, ...(json["data"] as object) } }
  })

describe("the hot path's hand-written check agrees with the ProductEvent schema", () => {
  it("accepts every generated valid event as the schema decodes it (2000 runs)", () => {
    fc.assert(fc.property(Arbitrary.make(ProductEvent), (event) => {
      expect(validProductEvent(toJson(event))).toBeDefined()
      agree(toJson(event))
    }), { numRuns: 2000 })
  })

  it("drops unknown properties and ignores key order, as the schema does (500 runs)", () => {
    fc.assert(fc.property(reshaped, agree), { numRuns: 500 })
  })

  it("agrees on valid events with one value replaced or removed (5000 runs)", () => {
    fc.assert(fc.property(mutated, agree), { numRuns: 5000 })
  })

  it("agrees on values that are not events at all", () => {
    fc.assert(fc.property(fc.jsonValue(), agree), { numRuns: 500 })
  })
})
