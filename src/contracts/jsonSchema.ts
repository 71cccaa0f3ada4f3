import { JSONSchema } from "effect"
import { ProductEvent } from "../domain/ProductEvent.js"

/** Titles such as `maxLength(200)` that Effect derives from a refinement: noise in a contract. */
const derivedTitle = /^[A-Za-z]+\(.*\)$/

const withoutDerivedTitles = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutDerivedTitles)
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === "title" && typeof v === "string" && derivedTitle.test(v)) continue
    out[k] = k === "examples" || k === "enum" ? v : withoutDerivedTitles(v)
  }
  return out
}

/**
 * The JSON Schema of the contract: one named definition per event plus the union `ProductEvent`.
 * Unknown properties are allowed, as the decoder ignores them: a tolerant reader is what lets the
 * contract gain optional fields without breaking consumers. `$defs` are sorted by name so that the
 * committed file does not churn when the schemas are merely reordered.
 */
export const eventContractsJsonSchema = (): Record<string, unknown> => {
  const definitions: Record<string, JSONSchema.JsonSchema7> = {}
  const root = JSONSchema.fromAST(ProductEvent.ast, { definitions, additionalPropertiesStrategy: "allow" })
  const $defs: Record<string, unknown> = {}
  for (const name of Object.keys(definitions).sort()) $defs[name] = withoutDerivedTitles(definitions[name])
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://product-events/contracts/event-contracts.json",
    title: "product-events",
    ...root,
    $defs
  }
}
