import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { codePointLength, maxNameLength } from "../../src/domain/Product.js"
import { validProductEvent } from "../../src/domain/ProductEventFast.js"
import { created, encode } from "../support/events.js"
import { agree, ajvValidate, decodeEither } from "../support/validators.js"

const withName = (name: string) => {
  const event = encode(created("seller_cp", "p1", Date.parse("2026-11-26T20:00:00.000Z"))) as { data: { product: { name: string } } }
  return { ...event, data: { ...event.data, product: { ...event.data.product, name } } }
}

// "𝄞" and "😀" are astral: two UTF-16 units, one code point, as JSON Schema's maxLength counts.
describe("string length is counted in code points by the schema, the hand check and JSON Schema alike", () => {
  it.each([
    ["200 emoji", "😀".repeat(maxNameLength), true],
    ["201 emoji", "😀".repeat(maxNameLength + 1), false],
    ["199 ASCII + 1 astral", "a".repeat(maxNameLength - 1) + "𝄞", true],
    ["200 ASCII + 1 astral", "a".repeat(maxNameLength) + "𝄞", false],
    ["a lone surrogate counts as one", "\ud800".repeat(maxNameLength), true]
  ] as const)("%s: valid = %s", (_, name, valid) => {
    const event = withName(name)
    expect(event.data.product.name).toBe(name)
    expect(Either.isRight(decodeEither(event))).toBe(valid)
    expect(validProductEvent(event) !== undefined).toBe(valid)
    expect(ajvValidate(event)).toBe(valid)
    agree(event)
  })

  it("codePointLength counts surrogate pairs once", () => {
    expect(codePointLength("")).toBe(0)
    expect(codePointLength("a😀b")).toBe(3)
    expect(codePointLength("😀".repeat(3))).toBe(3)
    expect(codePointLength("\udc00\ud800")).toBe(2)
  })
})
