import { JSONSchema } from "effect"
import { ProductEvent } from "../domain/ProductEvent.js"

/**
 * The JSON Schema of the contract: one named definition per event plus the union `ProductEvent`.
 * Unknown properties are allowed, as the decoder ignores them: a tolerant reader is what lets the
 * contract gain optional fields without breaking consumers.
 */
export const eventContractsJsonSchema = (): Record<string, unknown> => {
  const definitions: Record<string, JSONSchema.JsonSchema7> = {}
  const root = JSONSchema.fromAST(ProductEvent.ast, { definitions, additionalPropertiesStrategy: "allow" })
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://product-events/contracts/event-contracts.json",
    title: "product-events",
    ...root,
    $defs: definitions
  }
}
