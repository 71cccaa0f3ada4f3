import { ProductId, SellerId } from "../../src/domain/Ids.js"
import { Notification } from "../../src/domain/Notification.js"
import { timestampFromMillis } from "../../src/domain/Timestamp.js"

/** The seller's `n`th notification (product `p<n>` listed), its id unique per seller and `n`. */
export const notificationOf = (sellerId: string, n: number, overrides: Partial<{ title: string }> = {}) =>
  Notification.make({
    id: `${sellerId}-p${n}-ProductCreated-${1_700_000_000_000 + n}`,
    sellerId: SellerId.make(sellerId),
    productId: ProductId.make(`p${n}`),
    eventType: "ProductCreated",
    severity: "info",
    title: overrides.title ?? `Product p${n} listed`,
    body: `p${n} is now on sale`,
    occurredAt: timestampFromMillis(1_700_000_000_000 + n)
  })
