import { LowStockWarning, ProductCreated, ProductUpdated } from "../../src/domain/ProductEvent.js"
import { SchemaAST } from "effect"

/** The kinds of invalid event the corpus covers; the contract document lists them. */
export const corpusCategories = [
  "missing envelope field",
  "missing data field",
  "wrong type",
  "malformed eventId",
  "inconsistent eventId",
  "bad timestamp",
  "unknown eventType",
  "negative stock",
  "float stock",
  "float money",
  "unknown currency",
  "forbidden id characters",
  "non-object payload",
  "inconsistent ProductUpdated",
  "inconsistent LowStockWarning"
] as const
export type CorpusCategory = (typeof corpusCategories)[number]

export interface InvalidEvent {
  readonly category: CorpusCategory
  readonly name: string
  readonly input: unknown
  /** The decoder reports an issue at exactly this path. */
  readonly path: ReadonlyArray<string>
  /** false: a rule JSON Schema cannot state (cross-field checks, the 13-digit range), so ajv accepts it. */
  readonly jsonSchemaExpressible: boolean
}

type Json = Record<string, unknown>

const exampleOf = (schema: { readonly ast: SchemaAST.AST }): Json => {
  const examples = SchemaAST.getExamplesAnnotation(schema.ast)
  if (examples._tag === "None") throw new Error("schema without an example")
  return examples.value[0] as Json
}
const created = exampleOf(ProductCreated)
const updated = exampleOf(ProductUpdated)
const lowStock = exampleOf(LowStockWarning)

/** A deep copy of `base` with the value at `path` replaced, or removed when `value` is `remove`. */
const remove = Symbol("remove")
const set = (base: Json, path: ReadonlyArray<string>, value: unknown): Json => {
  const copy = structuredClone(base)
  let node: Json = copy
  for (const key of path.slice(0, -1)) node = node[key] as Json
  const last = path[path.length - 1]!
  if (value === remove) delete node[last]
  else node[last] = value
  return copy
}

const c = (
  category: CorpusCategory,
  name: string,
  input: unknown,
  path: ReadonlyArray<string>,
  jsonSchemaExpressible = true
): InvalidEvent => ({ category, name, input, path, jsonSchemaExpressible })

const at = (base: Json, path: ReadonlyArray<string>, value: unknown) => set(base, path, value)
const price = ["data", "product", "price"]
const createdId = (sellerId: string, productId: string, type: string, millis: string) =>
  at(created, ["eventId"], `${sellerId}-${productId}-${type}-${millis}`)

export const invalidEvents: ReadonlyArray<InvalidEvent> = [
  ...["eventId", "eventType", "timestamp", "data"].map((field) =>
    c("missing envelope field", `no ${field}`, at(created, [field], remove), [field])
  ),
  c("missing data field", "no data.sellerId", at(created, ["data", "sellerId"], remove), ["data", "sellerId"]),
  c("missing data field", "no data.productId", at(lowStock, ["data", "productId"], remove), ["data", "productId"]),
  c("missing data field", "no data.product", at(created, ["data", "product"], remove), ["data", "product"]),
  c("missing data field", "no product.price", at(created, price, remove), price),
  c("missing data field", "no price.currency", at(created, [...price, "currency"], remove), [...price, "currency"]),
  c("missing data field", "no changes", at(updated, ["data", "changes"], remove), ["data", "changes"]),
  c("missing data field", "no lowStockThreshold", at(lowStock, ["data", "lowStockThreshold"], remove), ["data", "lowStockThreshold"]),
  c("wrong type", "eventId is a number", at(created, ["eventId"], 42), ["eventId"]),
  c("wrong type", "timestamp is epoch millis", at(created, ["timestamp"], 1795724654123), ["timestamp"]),
  c("wrong type", "stock is a string", at(created, ["data", "product", "stock"], "40"), ["data", "product", "stock"]),
  c("wrong type", "price is a decimal string", at(created, price, "49.99"), price),
  c("wrong type", "name is a number", at(lowStock, ["data", "name"], 7), ["data", "name"]),
  c("wrong type", "changes is an array", at(updated, ["data", "changes"], []), ["data", "changes"]),
  c("wrong type", "data is null", at(created, ["data"], null), ["data"]),
  c("malformed eventId", "not the four parts", at(created, ["eventId"], "not_an_event_id"), ["eventId"]),
  c("malformed eventId", "12-digit millis", createdId("seller_42", "sku_1001", "ProductCreated", "179572465412"), ["eventId"]),
  c("malformed eventId", "empty", at(created, ["eventId"], ""), ["eventId"]),
  c("malformed eventId", "names another event type", createdId("seller_42", "sku_1001", "ProductDeleted", "1795724654123"), ["eventId"]),
  c("inconsistent eventId", "names another seller", createdId("seller_43", "sku_1001", "ProductCreated", "1795724654123"), ["eventId"], false),
  c("inconsistent eventId", "names another product", createdId("seller_42", "sku_1002", "ProductCreated", "1795724654123"), ["eventId"], false),
  c("inconsistent eventId", "names another millisecond", createdId("seller_42", "sku_1001", "ProductCreated", "1795724654124"), ["eventId"], false),
  c("bad timestamp", "no milliseconds", at(created, ["timestamp"], "2026-11-26T20:24:14Z"), ["timestamp"]),
  c("bad timestamp", "offset instead of Z", at(created, ["timestamp"], "2026-11-26T21:24:14.123+01:00"), ["timestamp"]),
  c("bad timestamp", "date only", at(created, ["timestamp"], "2026-11-26"), ["timestamp"]),
  c("bad timestamp", "February 30th", at(created, ["timestamp"], "2026-02-30T00:00:00.000Z"), ["timestamp"]),
  c("bad timestamp", "hour 24", at(created, ["timestamp"], "2026-11-26T24:00:00.000Z"), ["timestamp"]),
  c("bad timestamp", "before the 13-digit range", at(created, ["timestamp"], "2001-09-09T01:46:39.999Z"), ["timestamp"], false),
  c("bad timestamp", "after the 13-digit range", at(created, ["timestamp"], "2286-11-20T17:46:40.000Z"), ["timestamp"], false),
  c("unknown eventType", "ProductArchived", at(created, ["eventType"], "ProductArchived"), ["eventType"]),
  c("unknown eventType", "lower-case productCreated", at(created, ["eventType"], "productCreated"), ["eventType"]),
  c("negative stock", "product.stock -1", at(created, ["data", "product", "stock"], -1), ["data", "product", "stock"]),
  c("negative stock", "LowStockWarning stock -1", at(lowStock, ["data", "stock"], -1), ["data", "stock"]),
  c("negative stock", "changes.stock.before -5", at(updated, ["data", "changes", "stock", "before"], -5), ["data", "changes", "stock", "before"]),
  c("float stock", "product.stock 2.5", at(created, ["data", "product", "stock"], 2.5), ["data", "product", "stock"]),
  c("float stock", "lowStockThreshold 0.5", at(lowStock, ["data", "lowStockThreshold"], 0.5), ["data", "lowStockThreshold"]),
  c("float money", "amountMinor 19.99", at(created, [...price, "amountMinor"], 19.99), [...price, "amountMinor"]),
  c("float money", "price.after amountMinor 44.5", at(updated, ["data", "changes", "price", "after", "amountMinor"], 44.5), ["data", "changes", "price", "after", "amountMinor"]),
  c("unknown currency", "EUR1", at(created, [...price, "currency"], "EUR1"), [...price, "currency"]),
  c("unknown currency", "XXX is not in circulation", at(created, [...price, "currency"], "XXX"), [...price, "currency"]),
  c("unknown currency", "lower-case eur", at(created, [...price, "currency"], "eur"), [...price, "currency"]),
  c("forbidden id characters", "sellerId with -", at(created, ["data", "sellerId"], "seller-42"), ["data", "sellerId"]),
  c("forbidden id characters", "sellerId with a space", at(created, ["data", "sellerId"], "seller 42"), ["data", "sellerId"]),
  c("forbidden id characters", "sellerId of 65 characters", at(created, ["data", "sellerId"], "s".repeat(65)), ["data", "sellerId"]),
  c("forbidden id characters", "empty sellerId", at(created, ["data", "sellerId"], ""), ["data", "sellerId"]),
  c("forbidden id characters", "productId with -", at(lowStock, ["data", "productId"], "sku-1001"), ["data", "productId"]),
  c("forbidden id characters", "productId with a dot", at(lowStock, ["data", "productId"], "sku.1001"), ["data", "productId"]),
  c("non-object payload", "null", null, []),
  // Effect's union looks for the `eventType` discriminator on anything object-like, arrays included.
  c("non-object payload", "an array", [created], ["eventType"]),
  c("non-object payload", "a string", JSON.stringify(created), []),
  c("non-object payload", "a number", 42, []),
  c("inconsistent ProductUpdated", "empty changes", at(updated, ["data", "changes"], {}), ["data", "changes"], false),
  c("inconsistent ProductUpdated", "before equals after", at(updated, ["data", "changes", "stock"], { before: 38, after: 38 }), ["data", "changes", "stock"], false),
  c("inconsistent ProductUpdated", "after differs from product", at(updated, ["data", "changes", "stock", "after"], 39), ["data", "changes", "stock", "after"], false),
  c("inconsistent ProductUpdated", "price.after differs from product.price", at(updated, ["data", "changes", "price", "after"], { amountMinor: 4499, currency: "USD" }), ["data", "changes", "price", "after"], false),
  c("inconsistent LowStockWarning", "stock above threshold", at(lowStock, ["data", "stock"], 6), ["data", "stock"], false)
]
