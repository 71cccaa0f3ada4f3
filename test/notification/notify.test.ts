import { describe, expect, it } from "@effect/vitest"
import { formatMoney, toNotification } from "../../src/domain/Notify.js"
import { created, deleted, lowStock, product, updated } from "../support/events.js"

const t = Date.parse("2026-11-26T20:00:00.000Z")

describe("toNotification", () => {
  it("given a ProductCreated, tells the listing with price and stock", () => {
    const n = toNotification(created("s1", "p1", t))
    expect(n).toMatchObject({
      id: "s1-p1-ProductCreated-" + t,
      sellerId: "s1",
      productId: "p1",
      eventType: "ProductCreated",
      severity: "info",
      occurredAt: "2026-11-26T20:00:00.000Z"
    })
    expect(n.body).toBe(`"Walnut desk lamp" is listed at 49.99 EUR with 40 in stock.`)
  })

  it("given a ProductUpdated, lists each change before and after", () => {
    const before = product()
    const after = product({ price: { amountMinor: 4499, currency: "EUR" }, stock: 38 })
    const n = toNotification(updated("s1", "p1", t + 1, before, after))
    expect(n.severity).toBe("info")
    expect(n.body).toBe(`"Walnut desk lamp": price 49.99 EUR → 44.99 EUR; stock 40 → 38.`)
  })

  it("given a ProductDeleted, names the last known price and stock", () => {
    const n = toNotification(deleted("s1", "p1", t + 2, product({ stock: 3 })))
    expect(n.title).toBe("Product removed")
    expect(n.body).toContain("last price 49.99 EUR, 3 in stock")
  })

  it("given a LowStockWarning, is urgent", () => {
    const n = toNotification(lowStock("s1", "p1", t + 3, 2, 5))
    expect(n.severity).toBe("urgent")
    expect(n.body).toBe(`"Walnut desk lamp" is down to 2 (threshold 5).`)
  })

  it("formats money in the currency's own minor unit", () => {
    expect(formatMoney({ amountMinor: 500, currency: "JPY" })).toBe("500 JPY")
    expect(formatMoney({ amountMinor: 1234, currency: "KWD" })).toBe("1.234 KWD")
    expect(formatMoney({ amountMinor: 5, currency: "USD" })).toBe("0.05 USD")
    expect(formatMoney({ amountMinor: 0, currency: "EUR" })).toBe("0.00 EUR")
    expect(formatMoney({ amountMinor: 9007199254709315, currency: "EUR" })).toBe("90071992547093.15 EUR")
  })
})
