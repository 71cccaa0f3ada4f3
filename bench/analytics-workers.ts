/**
 * Batch aggregation + archive encoding of 100,000 lifecycle events through the analytics worker
 * pool: with 1 worker, and with the default pool size (available cores - 1, at least 1), all
 * batches submitted concurrently. `npm run bench:analytics`.
 */
import { Effect, Layer } from "effect"
import { availableParallelism } from "node:os"
import { makeEventId } from "../src/domain/ProductEvent.js"
import type { LifecycleEventJson } from "../src/workers/AnalyticsRequests.js"
import * as AnalyticsWorkerPool from "../src/workers/AnalyticsWorkerPool.js"
import { AnalyticsWorkers } from "../src/workers/AnalyticsWorkers.js"
import * as AnalyticsWorkersInline from "../src/workers/AnalyticsWorkersInline.js"

const totalEvents = 100_000
const batchSize = 1_000
const sellers = 2_000
const productsPerSeller = 10
const categories = ["home", "home/lighting", "garden", "toys", "books", "sports/outdoor", "kitchen", "fashion/shoes"]
const currencies = ["EUR", "USD", "GBP"] as const

/** A deterministic pseudo-random sequence (mulberry32), so every run measures the same events. */
const random = (() => {
  let a = 0x2f6b1d
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
})()
const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

interface Product {
  name: string
  category: string
  price: { amountMinor: number; currency: string }
  stock: number
  lowStockThreshold: number
}

const generate = (): Array<LifecycleEventJson> => {
  const events: Array<LifecycleEventJson> = []
  const start = Date.parse("2026-11-24T00:00:00.000Z")
  const live = new Map<string, { product: Product; at: number }>()
  const envelope = (eventType: "ProductCreated" | "ProductUpdated" | "ProductDeleted", sellerId: string, productId: string, at: number, data: object) => {
    const timestamp = new Date(at).toISOString()
    return { eventId: makeEventId(sellerId, productId, eventType, timestamp), eventType, timestamp, data: { sellerId, productId, ...data } } as LifecycleEventJson
  }
  while (events.length < totalEvents) {
    const sellerId = `seller_${Math.floor(random() * sellers)}`
    const productId = `sku_${Math.floor(random() * productsPerSeller)}`
    const key = `${sellerId}/${productId}`
    const current = live.get(key)
    const at = (current?.at ?? start + Math.floor(random() * 3 * 86_400_000)) + 1 + Math.floor(random() * 3_600_000)
    if (current === undefined) {
      const product: Product = {
        name: `Product ${productId}`,
        category: pick(categories),
        price: { amountMinor: 100 + Math.floor(random() * 100_000), currency: pick(currencies) },
        stock: Math.floor(random() * 500),
        lowStockThreshold: 5
      }
      live.set(key, { product, at })
      events.push(envelope("ProductCreated", sellerId, productId, at, { product }))
    } else if (random() < 0.08) {
      live.delete(key)
      events.push(envelope("ProductDeleted", sellerId, productId, at, { product: current.product }))
    } else {
      const before = current.product
      const after: Product = random() < 0.3
        ? { ...before, price: { ...before.price, amountMinor: before.price.amountMinor + 1 + Math.floor(random() * 500) } }
        : { ...before, stock: before.stock + 1 + Math.floor(random() * 20) }
      const changes = after.price !== before.price
        ? { price: { before: before.price, after: after.price } }
        : { stock: { before: before.stock, after: after.stock } }
      live.set(key, { product: after, at })
      events.push(envelope("ProductUpdated", sellerId, productId, at, { changes, product: after }))
    }
  }
  return events
}

const events = generate()
const batches = Array.from({ length: Math.ceil(events.length / batchSize) }, (_, i) => {
  const batch = events.slice(i * batchSize, (i + 1) * batchSize)
  return { events: batch, lines: batch.map((e) => JSON.stringify(e)) }
})

const runAll = Effect.gen(function*() {
  const workers = yield* AnalyticsWorkers
  yield* Effect.forEach(batches, (batch) => Effect.zip(workers.aggregate(batch.events), workers.encodeArchive(batch.lines), { concurrent: true }), {
    concurrency: "unbounded",
    discard: true
  })
})

const rounds = 3

/** One warm-up round (workers started, code compiled), then the best of `rounds` timed rounds. */
const measure = (label: string, layer: Layer.Layer<AnalyticsWorkers, unknown>) =>
  Effect.gen(function*() {
    yield* runAll
    let best = Infinity
    for (let round = 0; round < rounds; round++) {
      const started = performance.now()
      yield* runAll
      best = Math.min(best, performance.now() - started)
    }
    const rate = events.length / (best / 1000)
    console.log(`${label}: ${Math.round(rate).toLocaleString("en-US")} events/s (best of ${rounds}: ${best.toFixed(0)} ms)`)
    return rate
  }).pipe(Effect.provide(layer))

const main = Effect.gen(function*() {
  const defaultSize = AnalyticsWorkerPool.defaultPoolSize()
  console.log(`analytics workers: ${events.length.toLocaleString("en-US")} lifecycle events, ${batches.length} batches of ${batchSize}, ${new Set(events.map((e) => e.data.sellerId)).size} sellers`)
  console.log(`cores (os.availableParallelism): ${availableParallelism()}, default pool size: ${defaultSize}`)
  const inline = yield* measure("inline (main thread, reference)", AnalyticsWorkersInline.layerInline)
  const one = yield* measure("(a) pool of 1 worker", AnalyticsWorkerPool.layer({ size: 1 }))
  const byDefault = yield* measure(`(b) default pool of ${defaultSize}`, AnalyticsWorkerPool.layer({ size: defaultSize }))
  console.log(`ratio (b)/(a): ${(byDefault / one).toFixed(2)}`)
  console.log(`ratio (a)/inline: ${(one / inline).toFixed(2)}`)
  const cores = availableParallelism()
  if (cores > defaultSize) {
    const all = yield* measure(`(c) pool of ${cores} (one per core, for comparison)`, AnalyticsWorkerPool.layer({ size: cores }))
    console.log(`ratio (c)/(a): ${(all / one).toFixed(2)}`)
  }
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
