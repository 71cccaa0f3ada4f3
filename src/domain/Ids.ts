import { Schema } from "effect"

/** Seller and product ids: no `-`, which separates the parts of an eventId. */
export const idPattern = /^[A-Za-z0-9_]{1,64}$/

/** The seller who owns a product. Kafka message key and the unit of ordering. */
export const SellerId = Schema.String.pipe(
  Schema.pattern(idPattern, { message: () => "must be 1-64 characters of A-Z, a-z, 0-9 or _" }),
  Schema.brand("SellerId"),
  (sellerId) =>
    sellerId.annotations({
      identifier: "SellerId",
      description: "Seller identifier: 1-64 characters of [A-Za-z0-9_] (no '-', which separates eventId parts).",
      examples: [sellerId.make("seller_42")]
    })
)
export type SellerId = typeof SellerId.Type

/** A seller's product, unique within the seller. */
export const ProductId = Schema.String.pipe(
  Schema.pattern(idPattern, { message: () => "must be 1-64 characters of A-Z, a-z, 0-9 or _" }),
  Schema.brand("ProductId"),
  (productId) =>
    productId.annotations({
      identifier: "ProductId",
      description: "Product identifier, unique per seller: 1-64 characters of [A-Za-z0-9_].",
      examples: [productId.make("sku_1001")]
    })
)
export type ProductId = typeof ProductId.Type
