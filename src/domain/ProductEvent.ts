import { Arbitrary, Schema } from "effect"
import { ProductId, SellerId } from "./Ids.js"
import { Money, moneyEquals } from "./Money.js"
import { Category, ProductName, ProductState, StockUnits, productFields } from "./Product.js"
import { Timestamp, timestampToMillis } from "./Timestamp.js"

export const eventTypes = ["ProductCreated", "ProductUpdated", "ProductDeleted", "LowStockWarning"] as const
export const EventType = Schema.Literal(...eventTypes).annotations({
  identifier: "EventType",
  description: "The kind of event; also sent as the Kafka header `eventType`."
})
export type EventType = typeof EventType.Type

/** `{sellerId}-{productId}-{eventType}-{epochMillis}`: the idempotency key everywhere. */
export const makeEventId = (sellerId: string, productId: string, eventType: EventType, timestamp: string): string =>
  `${sellerId}-${productId}-${eventType}-${timestampToMillis(timestamp as Timestamp)}`

const EventId = (eventType: EventType) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^[A-Za-z0-9_]{1,64}-[A-Za-z0-9_]{1,64}-${eventType}-[0-9]{13}$`), {
      message: () => `must be {sellerId}-{productId}-${eventType}-{13-digit epochMillis}`
    }),
    Schema.annotations({
      description: "Idempotency key: `{sellerId}-{productId}-{eventType}-{epochMillis}`, epochMillis being `timestamp` in 13-digit Unix milliseconds."
    })
  )

interface EnvelopeFields {
  readonly eventId: string
  readonly timestamp: string
  readonly data: { readonly sellerId: string; readonly productId: string }
}

interface Example<D> {
  readonly timestamp: string
  readonly data: D
}

const eventIdOf = (eventType: EventType, event: EnvelopeFields): string =>
  makeEventId(event.data.sellerId, event.data.productId, eventType, event.timestamp)

/**
 * The envelope shared by every event. The eventId must agree with the event's own fields:
 * a check JSON Schema cannot express, so it lives in the decoder.
 */
type IdFields = { readonly sellerId: string; readonly productId: string }

const envelope = <T extends EventType, D extends IdFields, DI>(
  eventType: T,
  data: Schema.Schema<D, DI>,
  annotations: {
    readonly description: string
    /** Examples as their time and data: the envelope derives eventId and eventType. */
    readonly examples: readonly [Example<DI & IdFields>, ...Array<Example<DI & IdFields>>]
  }
) =>
  Schema.Struct({
    eventId: EventId(eventType),
    eventType: Schema.propertySignature(Schema.Literal(eventType)).annotations({ description: "Event type discriminator." }),
    timestamp: Timestamp,
    data
  }).pipe(
    Schema.filter(
      (event) => {
        const expected = eventIdOf(eventType, event as unknown as EnvelopeFields)
        return (event as unknown as EnvelopeFields).eventId === expected ||
          { path: ["eventId"], message: `must equal ${expected} (derived from data.sellerId, data.productId, eventType and timestamp)` }
      },
      {
        jsonSchema: {},
        arbitrary: (from) => (fc) =>
          from(fc).map((event) => ({ ...event, eventId: eventIdOf(eventType, event as unknown as EnvelopeFields) }))
      }
    ),
    // The examples are decoded by the schema they illustrate: an example that does not decode fails at load.
    (event) => {
      const decode = Schema.decodeUnknownSync(event)
      return event.annotations({
        identifier: eventType,
        description: annotations.description,
        examples: annotations.examples.map(({ data, timestamp }) =>
          decode({ eventId: makeEventId(data.sellerId, data.productId, eventType, timestamp), eventType, timestamp, data })
        ) as [typeof event.Type, ...Array<typeof event.Type>]
      })
    }
  )

const Change = <S extends Schema.Schema.Any>(value: S, description: string) =>
  Schema.Struct({ before: value, after: value }).annotations({ description })

export const ProductChanges = Schema.Struct({
  name: Schema.optional(Change(ProductName, "Name before and after.")),
  category: Schema.optional(Change(Category, "Category before and after.")),
  price: Schema.optional(Change(Money, "Price before and after.")),
  stock: Schema.optional(Change(StockUnits, "Stock before and after.")),
  lowStockThreshold: Schema.optional(Change(StockUnits, "Low-stock threshold before and after."))
}).annotations({
  identifier: "ProductChanges",
  description: "The fields that changed, each with its value before and after. At least one; before differs from after."
})
export type ProductChanges = typeof ProductChanges.Type

/** Equality of two values of one product field (money by amount and currency). */
export const sameValue = (a: unknown, b: unknown): boolean =>
  typeof a === "object" && a !== null && typeof b === "object" && b !== null
    ? moneyEquals(a as Money, b as Money)
    : a === b

/** The product of the examples, at a price (minor units) and a stock. */
const exampleLamp = (amountMinor: number, stock: number, name = "Walnut desk lamp"): typeof ProductState.Encoded => ({
  name,
  category: "home/lighting",
  price: { amountMinor, currency: "EUR" },
  stock,
  lowStockThreshold: 5
})

export const ProductCreated = envelope(
  "ProductCreated",
  Schema.Struct({ sellerId: SellerId, productId: ProductId, product: ProductState }),
  {
    description: "A seller listed a new product.",
    examples: [{ timestamp: "2026-11-26T20:24:14.123Z", data: { sellerId: "seller_42", productId: "sku_1001", product: exampleLamp(4999, 40) } }]
  }
)
export type ProductCreated = typeof ProductCreated.Type

const UpdatedData = Schema.Struct({
  sellerId: SellerId,
  productId: ProductId,
  changes: ProductChanges,
  product: ProductState
}).pipe(
  Schema.filter(
    ({ changes, product }) => {
      const changed = productFields.filter((f) => changes[f] !== undefined)
      if (changed.length === 0) return { path: ["changes"], message: "must name at least one changed field" }
      for (const f of changed) {
        const c = changes[f]!
        if (sameValue(c.before, c.after)) return { path: ["changes", f], message: "before and after must differ" }
        if (!sameValue(c.after, product[f])) {
          return { path: ["changes", f, "after"], message: `must equal product.${f}` }
        }
      }
      return true
    },
    {
      jsonSchema: {},
      arbitrary: () => (fc) =>
        fc.record({
          sellerId: Arbitrary.make(SellerId),
          productId: Arbitrary.make(ProductId),
          product: Arbitrary.make(ProductState),
          previous: Arbitrary.make(ProductState),
          fields: fc.subarray([...productFields], { minLength: 1 })
        }).map(({ fields, previous, product, ...ids }) => {
          const changes: Record<string, { before: unknown; after: unknown }> = {}
          for (const f of fields) {
            if (!sameValue(previous[f], product[f])) changes[f] = { before: previous[f], after: product[f] }
          }
          if (Object.keys(changes).length === 0) changes.stock = { before: product.stock + 1, after: product.stock }
          return { ...ids, changes: changes as ProductChanges, product }
        })
    }
  ),
  Schema.annotations({ identifier: "ProductUpdatedData" })
)

export const ProductUpdated = envelope("ProductUpdated", UpdatedData, {
  description: "Fields of a product changed (price, stock, name, ...). Carries the changed fields before and after, and the whole product after the change.",
  examples: [{
    timestamp: "2026-11-26T20:25:12.000Z",
    data: {
      sellerId: "seller_42",
      productId: "sku_1001",
      changes: {
        price: { before: { amountMinor: 4999, currency: "EUR" }, after: { amountMinor: 4499, currency: "EUR" } },
        stock: { before: 40, after: 38 }
      },
      product: exampleLamp(4499, 38)
    }
  }, {
    timestamp: "2026-11-26T20:31:05.250Z",
    data: {
      sellerId: "seller_42",
      productId: "sku_1001",
      changes: { name: { before: "Walnut desk lamp", after: "Walnut desk lamp, brass" } },
      product: exampleLamp(4499, 38, "Walnut desk lamp, brass")
    }
  }]
})
export type ProductUpdated = typeof ProductUpdated.Type

export const ProductDeleted = envelope(
  "ProductDeleted",
  Schema.Struct({
    sellerId: SellerId,
    productId: ProductId,
    product: ProductState.annotations({ description: "The product as last known, so consumers can subtract it." })
  }),
  {
    description: "A product was removed. Carries its last known state (price, stock, category).",
    examples: [{ timestamp: "2026-11-26T21:20:00.000Z", data: { sellerId: "seller_42", productId: "sku_1001", product: exampleLamp(4499, 3) } }]
  }
)
export type ProductDeleted = typeof ProductDeleted.Type

const LowStockData = Schema.Struct({
  sellerId: SellerId,
  productId: ProductId,
  name: ProductName,
  stock: StockUnits,
  lowStockThreshold: StockUnits
}).pipe(
  Schema.filter((d) => d.stock <= d.lowStockThreshold || { path: ["stock"], message: "must be at most lowStockThreshold" }, {
    jsonSchema: {},
    arbitrary: (from) => (fc) => from(fc).map((d) => (d.stock <= d.lowStockThreshold ? d : { ...d, stock: d.lowStockThreshold }))
  }),
  Schema.annotations({ identifier: "LowStockWarningData" })
)

export const LowStockWarning = envelope("LowStockWarning", LowStockData, {
  description: "Stock fell to or below the product's low-stock threshold.",
  examples: [{ timestamp: "2026-11-26T21:10:00.500Z", data: { sellerId: "seller_42", productId: "sku_1001", name: "Walnut desk lamp", stock: 4, lowStockThreshold: 5 } }]
})
export type LowStockWarning = typeof LowStockWarning.Type

export const ProductEvent = Schema.Union(ProductCreated, ProductUpdated, ProductDeleted, LowStockWarning).annotations({
  identifier: "ProductEvent",
  description: "Any event on the product-events topic, discriminated by eventType."
})
export type ProductEvent = typeof ProductEvent.Type

export const eventSchemas = { ProductCreated, ProductUpdated, ProductDeleted, LowStockWarning } as const

export const decodeProductEvent = Schema.decodeUnknown(ProductEvent, { errors: "all", onExcessProperty: "ignore" })
/**
 * An event's encoded form, which is the event itself: the schema refines and brands but transforms nothing
 * (no renamed key, no converted value, no default), so encoding a decoded event gives back its fields, in
 * their order. `agree` (test/support/validators.ts) checks this on every generated event; a transformation
 * added to the schema fails it.
 */
export const encodedProductEvent = (event: ProductEvent): typeof ProductEvent.Encoded => event

/** `decodeProductEvent` as a plain function returning an Either: the same decoding, for per-record hot paths. */
export const decodeProductEventEither = Schema.decodeUnknownEither(ProductEvent, { errors: "all", onExcessProperty: "ignore" })
