import { makeEventId } from "../src/domain/ProductEvent.js"
import type { OutgoingMessage } from "../src/services/EventLog.js"

const encoder = new TextEncoder()
const baseMillis = Date.parse("2026-11-26T20:00:00.000Z")

/** The i-th benchmark event: a small valid ProductCreated of one of `sellers` sellers, keyed by seller. */
export const benchMessage = (i: number, sellers: number): OutgoingMessage => {
  const sellerId = `seller_${i % sellers}`
  const productId = `sku_${i}`
  const timestamp = new Date(baseMillis + i).toISOString()
  const event = {
    eventId: makeEventId(sellerId, productId, "ProductCreated", timestamp),
    eventType: "ProductCreated",
    timestamp,
    data: {
      sellerId,
      productId,
      product: { name: "Lamp", category: "home", price: { amountMinor: 4999, currency: "EUR" }, stock: 40, lowStockThreshold: 5 }
    }
  }
  return { key: sellerId, value: encoder.encode(JSON.stringify(event)), headers: { eventType: "ProductCreated" } }
}
