import { Either, type ParseResult } from "effect"
import { idPattern } from "./Ids.js"
import { currencyCodes, type Money } from "./Money.js"
import { atMostCodePoints, categoryPattern, maxCategoryLength, maxNameLength, maxStockUnits, type ProductState, productFields } from "./Product.js"
import { decodeProductEventEither, type EventType, eventTypes, type ProductChanges, type ProductEvent, sameValue } from "./ProductEvent.js"
import { canonicalMillis, digits } from "./Timestamp.js"

/**
 * The consumer's and the gateway's hot path: a hand-written check of a parsed JSON value against
 * the `ProductEvent` schema, about three times cheaper than the schema's decoder.
 *
 * `validProductEvent` returns an event only when the schema would decode the input to that very
 * value (the same fields, in the same order, unknown properties dropped); for anything else it
 * returns `undefined` and `decodeProductEventFast` asks the schema, which rejects it with its
 * issues or, for an input this check does not cover, decodes it. So the schema stays the one
 * definition of validity: tests (test/long/fastDecode.test.ts on generated valid events and their
 * mutations, test/domain/fastDecode.test.ts on the invalid corpus) check that this never accepts what
 * the schema rejects and always returns what the schema returns (which is also what it encodes to:
 * `encodedProductEvent`).
 */

type Json = { readonly [key: string]: unknown }

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const isId = (u: unknown): u is string => typeof u === "string" && idPattern.test(u)
const isUnits = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0 && u <= maxStockUnits
const isName = (u: unknown): u is string => typeof u === "string" && u.length >= 1 && atMostCodePoints(u, maxNameLength)
const isCategory = (u: unknown): u is string =>
  typeof u === "string" && u.length <= maxCategoryLength && categoryPattern.test(u)

const currencies: ReadonlySet<string> = new Set(currencyCodes)
const knownEventTypes: ReadonlySet<string> = new Set(eventTypes)

const money = (u: unknown): Money | undefined => {
  if (!isObject(u)) return undefined
  const { amountMinor, currency } = u
  if (typeof amountMinor !== "number" || !Number.isSafeInteger(amountMinor) || amountMinor < 0) return undefined
  if (typeof currency !== "string" || !currencies.has(currency)) return undefined
  return { amountMinor, currency: currency as Money["currency"] }
}

/** One field's validation, as the schema of that field of `ProductState`. */
const fieldValue: { readonly [F in keyof ProductState]: (u: unknown) => ProductState[F] | undefined } = {
  name: (u) => (isName(u) ? u : undefined),
  category: (u) => (isCategory(u) ? u : undefined),
  price: money,
  stock: (u) => (isUnits(u) ? u : undefined),
  lowStockThreshold: (u) => (isUnits(u) ? u : undefined)
}

const productState = (u: unknown): ProductState | undefined => {
  if (!isObject(u)) return undefined
  const name = fieldValue.name(u["name"])
  const category = fieldValue.category(u["category"])
  const price = fieldValue.price(u["price"])
  const stock = fieldValue.stock(u["stock"])
  const lowStockThreshold = fieldValue.lowStockThreshold(u["lowStockThreshold"])
  if (name === undefined || category === undefined || price === undefined || stock === undefined || lowStockThreshold === undefined) {
    return undefined
  }
  return { name, category, price, stock, lowStockThreshold }
}

/** `changes` and `product` of a ProductUpdated, with the rules that tie them together. */
const updatedData = (data: Json): { changes: ProductChanges; product: ProductState } | undefined => {
  const changesIn = data["changes"]
  const product = productState(data["product"])
  if (!isObject(changesIn) || product === undefined) return undefined
  const changes: Record<string, { before: unknown; after: unknown }> = {}
  let count = 0
  for (const field of productFields) {
    if (!(field in changesIn)) continue
    const change = changesIn[field]
    if (!isObject(change)) return undefined
    const before = fieldValue[field](change["before"])
    const after = fieldValue[field](change["after"])
    if (before === undefined || after === undefined || sameValue(before, after) || !sameValue(after, product[field])) {
      return undefined
    }
    changes[field] = { before, after }
    count++
  }
  return count === 0 ? undefined : { changes: changes as ProductChanges, product }
}

const dash = 45

/**
 * Whether `eventId` is `makeEventId(sellerId, productId, eventType, timestamp)`, `millis` being the
 * timestamp's: compared part by part in place, not built. The ids hold no `-`, and `millis` has 13
 * digits, so the parts are where their lengths put them.
 */
const isEventIdOf = (eventId: unknown, sellerId: string, productId: string, eventType: string, millis: number): boolean => {
  if (typeof eventId !== "string") return false
  const productAt = sellerId.length + 1
  const typeAt = productAt + productId.length + 1
  const millisAt = typeAt + eventType.length + 1
  return eventId.length === millisAt + 13 &&
    eventId.startsWith(sellerId, 0) && eventId.charCodeAt(productAt - 1) === dash &&
    eventId.startsWith(productId, productAt) && eventId.charCodeAt(typeAt - 1) === dash &&
    eventId.startsWith(eventType, typeAt) && eventId.charCodeAt(millisAt - 1) === dash &&
    digits(eventId, millisAt, 13) === millis
}

/** The decoded event when the input is certainly valid; `undefined` when the schema must decide. */
export const validProductEvent = (input: unknown): ProductEvent | undefined => {
  if (!isObject(input)) return undefined
  const { data, eventId, eventType, timestamp } = input
  if (typeof eventType !== "string" || !knownEventTypes.has(eventType) || typeof timestamp !== "string" || !isObject(data)) {
    return undefined
  }
  // -1 unless canonical (which implies the schema's pattern).
  const millis = canonicalMillis(timestamp)
  const { productId, sellerId } = data
  if (millis < 0 || !isId(sellerId) || !isId(productId) || !isEventIdOf(eventId, sellerId, productId, eventType, millis)) {
    return undefined
  }
  // Built field by field, in the schema's order (a spread of a shared envelope costs more than the rest of the check).
  switch (eventType as EventType) {
    case "ProductCreated":
    case "ProductDeleted": {
      const product = productState(data["product"])
      if (product === undefined) return undefined
      return { eventId, eventType, timestamp, data: { sellerId, productId, product } } as ProductEvent
    }
    case "ProductUpdated": {
      const updated = updatedData(data)
      if (updated === undefined) return undefined
      return {
        eventId,
        eventType,
        timestamp,
        data: { sellerId, productId, changes: updated.changes, product: updated.product }
      } as ProductEvent
    }
    case "LowStockWarning": {
      const { lowStockThreshold, name, stock } = data
      if (!isName(name) || !isUnits(stock) || !isUnits(lowStockThreshold) || stock > lowStockThreshold) return undefined
      return { eventId, eventType, timestamp, data: { sellerId, productId, name, stock, lowStockThreshold } } as ProductEvent
    }
  }
}

/** `decodeProductEventEither`, answered by `validProductEvent` when it can: the same results, cheaper. */
export const decodeProductEventFast = (input: unknown): Either.Either<ProductEvent, ParseResult.ParseError> => {
  const event = validProductEvent(input)
  return event === undefined ? decodeProductEventEither(input) : Either.right(event)
}
