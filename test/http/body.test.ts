import { describe, expect, it } from "vitest"
import { maxJsonDepth, nestsDeeperThan } from "../../src/http/Body.js"

describe("nestsDeeperThan", () => {
  it("counts arrays and objects opened inside each other, not brackets inside strings", () => {
    expect(nestsDeeperThan("1", 0)).toBe(false)
    expect(nestsDeeperThan("[]", 0)).toBe(true)
    expect(nestsDeeperThan("[{\"a\":[1]},{}]", 3)).toBe(false)
    expect(nestsDeeperThan("[{\"a\":[1]},{}]", 2)).toBe(true)
    expect(nestsDeeperThan(`{"a":"[[[[[[[[","b":"\\"[[[[\\\\"}`, 1)).toBe(false)
    expect(nestsDeeperThan(`["\\\\",[[]]]`, 2)).toBe(true)
  })

  it(`leaves room for a batch of the deepest event (${maxJsonDepth} levels)`, () => {
    const deepestEvent = { data: { changes: { price: { before: { amountMinor: 1 } } } } }
    expect(nestsDeeperThan(JSON.stringify([deepestEvent]), maxJsonDepth)).toBe(false)
    expect(nestsDeeperThan("[".repeat(maxJsonDepth + 1), maxJsonDepth)).toBe(true)
  })
})
