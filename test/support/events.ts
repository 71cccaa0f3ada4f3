import { makeEventId, type ProductEvent, ProductEvent as ProductEventSchema } from "../../src/domain/ProductEvent.js"
import { Schema } from "effect"
import type { ProductState } from "../../src/domain/Product.js"
import { timestampFromMillis } from "../../src/domain/Timestamp.js"

/** Builders of valid events for tests: every eventId agrees with its fields. */

export const baseMillis = Date.parse("2026-11-26T20:00:00.000Z")

export const product = (overrides: Partial<ProductState> = {}) => ({
  name: "Walnut desk lamp",
  category: "home/lighting",
  price: { amountMinor: 4999, currency: "EUR" },
  stock: 40,
  lowStockThreshold: 5,
  ...overrides
})

const envelope = (eventType: ProductEvent["eventType"], sellerId: string, productId: string, millis: number, data: object) => {
  const timestamp = timestampFromMillis(millis)
  return Schema.decodeUnknownSync(ProductEventSchema)({
    eventId: makeEventId(sellerId, productId, eventType, timestamp),
    eventType,
    timestamp,
    data: { sellerId, productId, ...data }
  })
}

export const created = (sellerId: string, productId: string, millis = baseMillis, state = product()) =>
  envelope("ProductCreated", sellerId, productId, millis, { product: state })

export const updated = (
  sellerId: string,
  productId: string,
  millis: number,
  before: ReturnType<typeof product>,
  after: ReturnType<typeof product>
) => {
  const changes: Record<string, { before: unknown; after: unknown }> = {}
  for (const key of Object.keys(after) as Array<keyof typeof after>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[key] = { before: before[key], after: after[key] }
  }
  return envelope("ProductUpdated", sellerId, productId, millis, { changes, product: after })
}

export const deleted = (sellerId: string, productId: string, millis: number, state = product()) =>
  envelope("ProductDeleted", sellerId, productId, millis, { product: state })

export const lowStock = (sellerId: string, productId: string, millis: number, stock = 3, lowStockThreshold = 5) =>
  envelope("LowStockWarning", sellerId, productId, millis, { name: "Walnut desk lamp", stock, lowStockThreshold })

const encodeEvent = Schema.encodeSync(ProductEventSchema)
export const encode = (event: ProductEvent) => encodeEvent(event)

/** The event as a kafkajs message, as the gateway writes it: keyed by seller, the type and id in headers. */
export const kafkaMessage = (event: ProductEvent) => ({
  key: event.data.sellerId,
  value: JSON.stringify(encode(event)),
  headers: { eventType: event.eventType, eventId: event.eventId }
})

/** Each seller's lifecycle: two products created, one repriced, then an hour later one created, one deleted. */
export const lifecycles = (sellers: ReadonlyArray<string>) =>
  sellers.map((s, i) => {
    const t = baseMillis + i * 10
    const lamp = product()
    const cheaper = product({ price: { amountMinor: 3999, currency: "EUR" }, stock: 12 })
    const mug = product({ name: "Mug", category: "kitchen/tableware", price: { amountMinor: 900, currency: "USD" }, stock: 100 })
    return [
      created(s, "lamp", t, lamp),
      created(s, "mug", t + 1, mug),
      updated(s, "lamp", t + 2, lamp, cheaper),
      created(s, "desk", t + 3_600_000, product({ name: "Desk", category: "home/furniture", stock: 2 })),
      deleted(s, "mug", t + 3_600_001, mug)
    ]
  })
