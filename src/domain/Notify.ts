import { Match } from "effect"
import type { Money } from "./Money.js"
import { Notification } from "./Notification.js"
import type { ProductChanges, ProductEvent } from "./ProductEvent.js"

const fractionDigits = new Map<string, number>()

/** Minor units to a decimal string in the currency's own exponent: 4999 EUR -> "49.99 EUR", 500 JPY -> "500 JPY". */
export const formatMoney = (money: Money): string => {
  let digits = fractionDigits.get(money.currency)
  if (digits === undefined) {
    digits = new Intl.NumberFormat("en", { style: "currency", currency: money.currency }).resolvedOptions()
      .maximumFractionDigits ?? 2
    fractionDigits.set(money.currency, digits)
  }
  // Integer digits only: dividing by 10^digits would round large amounts (up to 2^53-1) through a float.
  const minor = String(money.amountMinor).padStart(digits + 1, "0")
  const major = digits === 0 ? minor : `${minor.slice(0, -digits)}.${minor.slice(-digits)}`
  return `${major} ${money.currency}`
}

const describeChanges = (changes: ProductChanges): string => {
  const parts: Array<string> = []
  if (changes.name) parts.push(`name "${changes.name.before}" → "${changes.name.after}"`)
  if (changes.category) parts.push(`category ${changes.category.before} → ${changes.category.after}`)
  if (changes.price) parts.push(`price ${formatMoney(changes.price.before)} → ${formatMoney(changes.price.after)}`)
  if (changes.stock) parts.push(`stock ${changes.stock.before} → ${changes.stock.after}`)
  if (changes.lowStockThreshold) {
    parts.push(`low-stock threshold ${changes.lowStockThreshold.before} → ${changes.lowStockThreshold.after}`)
  }
  return parts.join("; ")
}

/** What the seller is told about an event. Pure: the event alone says everything. */
export const toNotification = (event: ProductEvent): Notification => {
  const base = {
    id: event.eventId,
    sellerId: event.data.sellerId,
    productId: event.data.productId,
    eventType: event.eventType,
    occurredAt: event.timestamp
  }
  return Match.value(event).pipe(
    Match.discriminatorsExhaustive("eventType")({
      ProductCreated: ({ data: { product } }) =>
        new Notification({
          ...base,
          severity: "info",
          title: "Product listed",
          body: `"${product.name}" is listed at ${formatMoney(product.price)} with ${product.stock} in stock.`
        }),
      ProductUpdated: ({ data: { changes, product } }) =>
        new Notification({
          ...base,
          severity: "info",
          title: "Product updated",
          body: `"${product.name}": ${describeChanges(changes)}.`
        }),
      ProductDeleted: ({ data: { product } }) =>
        new Notification({
          ...base,
          severity: "info",
          title: "Product removed",
          body: `"${product.name}" was removed (last price ${formatMoney(product.price)}, ${product.stock} in stock).`
        }),
      LowStockWarning: ({ data }) =>
        new Notification({
          ...base,
          severity: "urgent",
          title: "Low stock",
          body: `"${data.name}" is down to ${data.stock} (threshold ${data.lowStockThreshold}).`
        })
    })
  )
}
