import { describe, expect, it } from "vitest"
import { corpusCategories, invalidEvents } from "./invalidEvents.js"
import { ajvValidate, decoderIssues } from "../support/validators.js"

const table = invalidEvents.map((e) => [`${e.category}: ${e.name}`, e] as const)

describe("invalid-event corpus", () => {
  it("has at least 40 cases and covers every category", () => {
    expect(invalidEvents.length).toBeGreaterThanOrEqual(40)
    expect(new Set(invalidEvents.map((e) => e.category))).toEqual(new Set(corpusCategories))
  })

  it.each(table)("the decoder rejects %s at its path", (_, { input, path }) => {
    const issues = decoderIssues(input)
    expect(issues.length).toBeGreaterThan(0)
    expect(issues.map((issue) => issue.path), JSON.stringify(issues)).toContainEqual(path)
  })

  it.each(table)("ajv agrees on %s", (_, { input, jsonSchemaExpressible }) => {
    // Cases JSON Schema cannot express must be accepted by ajv, so the list of exceptions stays honest.
    expect(ajvValidate(input)).toBe(!jsonSchemaExpressible)
  })
})
