import { describe, expect, it } from "vitest"
import { validProductEvent } from "../../src/domain/ProductEventFast.js"
import { agree } from "../support/validators.js"
import { invalidEvents } from "./invalidEvents.js"

// Generated events, valid and mutated, are checked the same way in test/long/fastDecode.test.ts.
describe("the hot path's hand-written check agrees with the ProductEvent schema", () => {
  it.each(invalidEvents.map((e) => [`${e.category}: ${e.name}`, e.input] as const))("rejects %s", (_, input) => {
    expect(validProductEvent(input)).toBeUndefined()
    agree(input)
  })
})
