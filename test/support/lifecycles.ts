import * as fc from "fast-check"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { baseMillis, created, deleted, product, updated } from "./events.js"

/** Consistent product lives for property tests: created, updates whose `before` is the current state, maybe deleted. */

type State = ReturnType<typeof product>

const currencies = ["EUR", "USD", "JPY"] as const
const categories = ["home", "home/lighting", "garden", "toys"] as const

const stateArb: fc.Arbitrary<State> = fc.record({
  name: fc.constantFrom("Lamp", "Desk", "Chair", "Rug"),
  category: fc.constantFrom(...categories),
  price: fc.record({ amountMinor: fc.integer({ min: 0, max: 1_000_000 }), currency: fc.constantFrom(...currencies) }),
  stock: fc.integer({ min: 0, max: 10_000 }),
  lowStockThreshold: fc.integer({ min: 0, max: 20 })
})

const fieldsArb = fc.subarray(["name", "category", "price", "stock", "lowStockThreshold"] as const, { minLength: 1 })

/** The next state: the chosen fields take the candidate's values; at least one field really changes. */
const next = (current: State, candidate: State, fields: ReadonlyArray<keyof State>): State => {
  const after: Record<string, unknown> = { ...current }
  for (const f of fields) after[f] = candidate[f]
  const result = after as State
  return JSON.stringify(result) === JSON.stringify(current) ? { ...current, stock: current.stock + 1 } : result
}

interface Life {
  readonly sellerId: string
  readonly productId: string
  readonly start: State
  readonly updates: ReadonlyArray<{ readonly candidate: State; readonly fields: ReadonlyArray<keyof State> }>
  readonly deleted: boolean
  /** Gaps between consecutive events, in ms (spanning hours and days). */
  readonly gaps: ReadonlyArray<number>
  readonly startAt: number
}

const lifeArb = (sellerId: string, productId: string): fc.Arbitrary<Life> =>
  fc.record({
    start: stateArb,
    updates: fc.array(fc.record({ candidate: stateArb, fields: fieldsArb }), { maxLength: 5 }),
    deleted: fc.boolean(),
    gaps: fc.array(fc.integer({ min: 1, max: 10 * 3_600_000 }), { minLength: 7, maxLength: 7 }),
    startAt: fc.integer({ min: 0, max: 48 * 3_600_000 })
  }).map((life) => ({ ...life, sellerId, productId }))

const eventsOf = (life: Life): Array<ProductEvent> => {
  let t = baseMillis + life.startAt
  let state = life.start
  const events: Array<ProductEvent> = [created(life.sellerId, life.productId, t, state)]
  life.updates.forEach(({ candidate, fields }, i) => {
    t += life.gaps[i]!
    const after = next(state, candidate, fields)
    events.push(updated(life.sellerId, life.productId, t, state, after))
    state = after
  })
  if (life.deleted) events.push(deleted(life.sellerId, life.productId, t + life.gaps[6]!, state))
  return events
}

const slots = ["s1", "s2", "s3"].flatMap((sellerId) => ["p1", "p2", "p3"].map((productId) => ({ sellerId, productId })))

/** A few sellers' product lives, interleaved in timestamp order. */
export const lifecycleEvents: fc.Arbitrary<ReadonlyArray<ProductEvent>> = fc
  .subarray(slots, { minLength: 1 })
  .chain((chosen) => fc.tuple(...chosen.map(({ sellerId, productId }) => lifeArb(sellerId, productId))))
  .map((lives) => lives.flatMap(eventsOf).sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0)))

/** Events cut into consecutive non-empty batches at random points. */
export const batched = <A>(items: ReadonlyArray<A>): fc.Arbitrary<ReadonlyArray<ReadonlyArray<A>>> =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, items.length - 1) }), { maxLength: items.length }).map((cuts) => {
    const points = [0, ...cuts.filter((c) => c < items.length).sort((a, b) => a - b), items.length]
    const batches: Array<ReadonlyArray<A>> = []
    for (let i = 1; i < points.length; i++) if (points[i]! > points[i - 1]!) batches.push(items.slice(points[i - 1], points[i]))
    return batches
  })
