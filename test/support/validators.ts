import { Ajv } from "ajv"
import * as ajvFormats from "ajv-formats"
import { Either, ParseResult, Schema } from "effect"
import { expect } from "vitest"
import { eventContractsJsonSchema } from "../../src/contracts/jsonSchema.js"
import { ProductEvent } from "../../src/domain/ProductEvent.js"
import { decodeProductEventFast, validProductEvent } from "../../src/domain/ProductEventFast.js"

// ajv-formats is CommonJS with `exports.default`: under NodeNext the plugin is `.default`.
const addFormats = ajvFormats.default.default

export const contractSchema = eventContractsJsonSchema()
export const contractId = contractSchema.$id as string

/** An independent validator: ajv (draft-07) with `format: date-time` checked by ajv-formats. */
export const ajv = new Ajv({ allErrors: true, strict: false })
addFormats(ajv)
ajv.addSchema(contractSchema)

/** Validates against the sub-schema at a JSON pointer of the contract (the root by default). */
export const ajvAt = (pointer = "") => ajv.compile({ $ref: `${contractId}#${pointer}` })
export const ajvValidate = ajvAt()

export const decodeEither = Schema.decodeUnknownEither(ProductEvent, { errors: "all", onExcessProperty: "ignore" })
const encode = Schema.encodeSync(ProductEvent)

/** The decoder's issues as `{ path, message }`; empty when the input decodes. */
export const decoderIssues = (input: unknown) =>
  Either.match(decodeEither(input), {
    onLeft: (error) => ParseResult.ArrayFormatter.formatErrorSync(error),
    onRight: () => []
  })

/**
 * On a parsed JSON value, the hand-written check and the schema agree exactly: the check accepts
 * what the schema decodes, returning the same value with the same key order, and nothing else; that
 * value is also what the schema encodes it to (`encodedProductEvent`, which the gateway and
 * analytics-service use); and `decodeProductEventFast` gives the schema's answer either way.
 */
export const agree = (input: unknown) => {
  const fast = validProductEvent(input)
  const schema = decodeEither(input)
  expect(fast !== undefined, `fast check ${fast === undefined ? "rejects" : "accepts"} ${JSON.stringify(input)}`).toBe(Either.isRight(schema))
  if (Either.isRight(schema)) {
    expect(fast).toStrictEqual(schema.right)
    expect(JSON.stringify(fast)).toBe(JSON.stringify(schema.right))
    const encoded = encode(schema.right)
    expect(fast).toStrictEqual(encoded)
    expect(JSON.stringify(fast)).toBe(JSON.stringify(encoded))
  }
  const combined = decodeProductEventFast(input)
  expect(Either.isRight(combined)).toBe(Either.isRight(schema))
  if (Either.isLeft(combined) && Either.isLeft(schema)) expect(combined.left.message).toBe(schema.left.message)
}
