import { Schema } from "effect"
import { Money } from "./Money.js"

export const maxNameLength = 200
export const maxCategoryLength = 100
export const categoryPattern = /^[a-z0-9]+(?:[-/][a-z0-9]+)*$/
export const maxStockUnits = 1_000_000_000

/** Characters as JSON Schema counts them (code points), not UTF-16 units: an emoji is one. */
export const codePointLength = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++, n++) {
    const unit = s.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) i++
    }
  }
  return n
}

/** At most `max` code points; the UTF-16 length answers without counting when it can. */
export const atMostCodePoints = (s: string, max: number): boolean =>
  s.length <= max || (s.length <= 2 * max && codePointLength(s) <= max)

export const ProductName = Schema.String.pipe(
  Schema.minLength(1),
  Schema.filter((s) => atMostCodePoints(s, maxNameLength), {
    message: () => `Expected a string at most ${maxNameLength} character(s) long`,
    jsonSchema: { maxLength: maxNameLength },
    arbitrary: () => (fc) =>
      fc.oneof(fc.string({ minLength: 1, maxLength: maxNameLength }), fc.string({ unit: "binary", minLength: 1, maxLength: maxNameLength }))
  }),
  Schema.annotations({ identifier: "ProductName", description: "Display name, 1-200 characters (code points, as JSON Schema counts them: an emoji is one).", examples: ["Walnut desk lamp"] })
)

export const Category = Schema.String.pipe(
  Schema.pattern(categoryPattern, { message: () => "must be a lower-case slug such as home/lighting" }),
  Schema.maxLength(maxCategoryLength),
  Schema.annotations({
    identifier: "Category",
    description: "Category slug: lower-case words joined by '-' and '/', at most 100 characters.",
    examples: ["home/lighting"]
  })
)

export const StockUnits = Schema.Int.pipe(
  Schema.nonNegative(),
  Schema.lessThanOrEqualTo(maxStockUnits),
  Schema.annotations({ identifier: "StockUnits", description: "Units in stock: an integer from 0 to 10^9.", examples: [12] })
)

/** Everything a consumer needs to know about a product, carried by the events themselves. */
export const ProductState = Schema.Struct({
  name: ProductName,
  category: Category,
  price: Money,
  stock: StockUnits,
  lowStockThreshold: Schema.propertySignature(StockUnits).annotations({
    description: "A LowStockWarning is emitted when stock falls to or below this number."
  })
}).annotations({
  identifier: "ProductState",
  description: "The product's fields as they stand after the event."
})
export type ProductState = typeof ProductState.Type

export const productFields = ["name", "category", "price", "stock", "lowStockThreshold"] as const
export type ProductField = (typeof productFields)[number]
