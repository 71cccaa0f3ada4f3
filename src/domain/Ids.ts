import { Schema } from "effect"

/** Seller and product ids: no `-`, which separates the parts of an eventId. */
export const idPattern = /^[A-Za-z0-9_]{1,64}$/

/** A branded id of `idPattern`, its example made by the schema itself. */
const id = <B extends string>(brand: B, description: string, example: string) =>
  Schema.String.pipe(
    Schema.pattern(idPattern, { message: () => "must be 1-64 characters of A-Z, a-z, 0-9 or _" }),
    Schema.brand(brand),
    (schema) => schema.annotations({ identifier: brand, description, examples: [Schema.decodeSync(schema)(example)] })
  )

/** The seller who owns a product. Kafka message key and the unit of ordering. */
export const SellerId = id(
  "SellerId",
  "Seller identifier: 1-64 characters of [A-Za-z0-9_] (no '-', which separates eventId parts).",
  "seller_42"
)
export type SellerId = typeof SellerId.Type

/** A seller's product, unique within the seller. */
export const ProductId = id("ProductId", "Product identifier, unique per seller: 1-64 characters of [A-Za-z0-9_].", "sku_1001")
export type ProductId = typeof ProductId.Type
