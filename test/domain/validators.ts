import { Ajv } from "ajv"
import * as ajvFormats from "ajv-formats"
import { Either, ParseResult, Schema } from "effect"
import { eventContractsJsonSchema } from "../../src/contracts/jsonSchema.js"
import { ProductEvent } from "../../src/domain/ProductEvent.js"

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

/** The decoder's issues as `{ path, message }`; empty when the input decodes. */
export const decoderIssues = (input: unknown) =>
  Either.match(decodeEither(input), {
    onLeft: (error) => ParseResult.ArrayFormatter.formatErrorSync(error),
    onRight: () => []
  })
