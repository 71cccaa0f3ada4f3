import { Chunk, Data, Effect, Layer, Queue, Stream } from "effect"
import { consumers, deadLetterTopic, productEventsTopic } from "../../src/domain/Consumers.js"
import { type EventType, makeEventId } from "../../src/domain/ProductEvent.js"
import { layerMemory, make as makeMemoryLog } from "../../src/layers/EventLogMemory.js"
import { EventLog, type LogRecord, type OutgoingMessage, type Rebalance } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"

export const partitions = 4
/** The services' topics, created up front as `TopicsLive` creates them on a broker. */
export const topics: Readonly<Record<string, number>> = {
  [productEventsTopic]: partitions,
  ...Object.fromEntries(consumers.map(({ group }) => [deadLetterTopic(group), 1]))
}
export const TestLayer = Layer.mergeAll(layerMemory({ topics }), Metrics.Default)

const baseMillis = Date.parse("2026-11-26T20:24:14.123Z")
const product = {
  name: "Walnut desk lamp",
  category: "home/lighting",
  price: { amountMinor: 4999, currency: "EUR" },
  stock: 40,
  lowStockThreshold: 5
}

/** A valid event of the seller, its `n`th: distinct timestamps give distinct eventIds. */
export const event = (sellerId: string, n: number, eventType: EventType = "ProductCreated") => {
  const timestamp = new Date(baseMillis + n).toISOString()
  const productId = `sku_${n}`
  const eventId = makeEventId(sellerId, productId, eventType, timestamp)
  const data = eventType === "LowStockWarning"
    ? { sellerId, productId, name: "Lamp", stock: 1, lowStockThreshold: 5 }
    : { sellerId, productId, product }
  return { eventId, eventType, timestamp, data }
}

const encoder = new TextEncoder()
export const message = (e: ReturnType<typeof event>): OutgoingMessage => ({
  key: e.data.sellerId,
  value: encoder.encode(JSON.stringify(e)),
  headers: { eventType: e.eventType }
})

export const publish = (...events: ReadonlyArray<ReturnType<typeof event>>) =>
  Effect.flatMap(EventLog, (log) => log.produce(productEventsTopic, events.map(message)))

/** Every record of a topic so far, read by a throwaway group. */
export const readTopic = (topic: string) =>
  Effect.gen(function*() {
    const log = yield* EventLog
    const total = (yield* log.endOffsets(topic)).reduce((n, e) => n + e.offset, 0)
    if (total === 0) return []
    const subscription = yield* log.subscribe({ group: `reader-${Math.random()}`, topics: [topic] })
    return Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(subscription.records, total)))
  }).pipe(Effect.scoped)

/** Committed offset of the product-events partition, -1 when none. */
export const committedOf = (group: string, partition: number) =>
  Effect.flatMap(EventLog, (log) => log.committed(group, productEventsTopic)).pipe(
    Effect.map((all) => all.find((c) => c.partition === partition)?.offset ?? -1)
  )

export const sellerOf = (record: LogRecord) => record.key ?? ""

export class Unavailable extends Data.TaggedError("Unavailable")<{ readonly message: string }> {
  readonly retriable = true
}
export class Rejected extends Data.TaggedError("Rejected")<{ readonly message: string }> {
  readonly retriable = false
}

/** An in-memory log whose rebalances the test emits itself (the memory log never revokes). */
export const revocableLog = Effect.gen(function*() {
  const memory = yield* makeMemoryLog({ topics })
  const rebalances = yield* Queue.unbounded<Rebalance>()
  const log = EventLog.of({
    ...memory,
    subscribe: (options) => Effect.map(memory.subscribe(options), (s) => ({ ...s, rebalances: Stream.fromQueue(rebalances) }))
  })
  return { log, rebalances }
})
