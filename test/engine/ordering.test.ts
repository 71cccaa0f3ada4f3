import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, TestClock } from "effect"
import { deadLetterTopic, notificationService } from "../../src/domain/Consumers.js"
import { partitionFor } from "../../src/layers/kafka/Partitioner.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { PartitionWatermark } from "../../src/services/consumer/Watermark.js"
import { committedOf, event, partitions, publish, readTopic, sellerOf, TestLayer, Unavailable } from "./fixtures.js"

const lanes = 8
/** Sellers on the partition of `first`, each in a lane of its own. */
const sellersSharingPartition = (first: string, count: number): ReadonlyArray<string> => {
  const partition = partitionFor(first, partitions)
  const chosen = [first]
  for (let i = 0; chosen.length < count; i++) {
    const candidate = `seller_${i}`
    const lane = ConsumerEngine.laneOf(candidate, lanes)
    if (
      partitionFor(candidate, partitions) === partition &&
      chosen.every((s) => ConsumerEngine.laneOf(s, lanes) !== lane)
    ) chosen.push(candidate)
  }
  return chosen
}

describe("PartitionWatermark", () => {
  it("commits only the finished prefix, whatever order records finish in", () => {
    const mark = new PartitionWatermark("t", 0)
    expect(mark.committable).toBeUndefined()
    for (const offset of [10, 11, 13, 14]) mark.track(offset)
    mark.finish(13)
    mark.finish(11)
    expect(mark.committable).toBe(10)
    mark.finish(10)
    expect(mark.committable).toBe(14)
    mark.finish(14)
    expect(mark.committable).toBe(15)
    expect(mark.unfinished).toBe(0)
  })

  it("handles offsets with gaps (compacted or transactional partitions) and ignores repeated or unknown finishes", () => {
    const mark = new PartitionWatermark("t", 0)
    const offsets = Array.from({ length: 3000 }, (_, i) => i * 3 + (i % 7 === 0 ? 1 : 0))
    for (const offset of offsets) mark.track(offset)
    const reversed = [...offsets].reverse()
    for (const offset of reversed.slice(0, -1)) mark.finish(offset)
    mark.finish(offsets[1]!)
    mark.finish(offsets[0]! + 1)
    expect(mark.committable).toBe(offsets[0])
    expect(mark.unfinished).toBe(offsets.length)
    mark.finish(offsets[0]!)
    expect(mark.committable).toBe(offsets.at(-1)! + 1)
    expect(mark.unfinished).toBe(0)
  })
})

describe("ConsumerEngine ordering and commits", () => {
  it.effect("a seller whose event keeps failing holds back only its own later events, even on its partition", () =>
    Effect.gen(function*() {
      const [bad, good1, good2] = sellersSharingPartition("seller_bad", 3) as [string, string, string]
      const stuck = event(bad, 1)
      const positions = yield* publish(stuck, event(good1, 2), event(bad, 3), event(good2, 4), event(good1, 5))
      const partition = positions[0]!.partition
      expect(new Set(positions.map((p) => p.partition))).toEqual(new Set([partition]))

      const handled: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        lanes,
        handle: (e) =>
          e.eventId === stuck.eventId
            ? Effect.fail(new Unavailable({ message: "down for this seller" }))
            : Effect.sync(() => void handled.push(e.eventId))
      }))
      yield* TestClock.adjust("1100 millis")
      // Lanes interleave freely; within a seller the order holds.
      expect([...handled].sort()).toEqual([event(good1, 2), event(good2, 4), event(good1, 5)].map((e) => e.eventId).sort())
      expect(handled.filter((id) => id.startsWith(`${good1}-`))).toEqual([event(good1, 2).eventId, event(good1, 5).eventId])
      // The stuck record is the first unfinished one: the commit stops there.
      expect(yield* committedOf("notification-service", partition)).toBe(positions[0]!.offset)

      yield* TestClock.adjust("1 minute")
      expect(handled.at(-1)).toBe(event(bad, 3).eventId)
      const dead = yield* readTopic(deadLetterTopic("notification-service"))
      expect(dead.map(sellerOf)).toEqual([bad])
      expect(yield* committedOf("notification-service", partition)).toBe(positions.at(-1)!.offset + 1)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("each seller's events are handled in the order produced", () =>
    Effect.gen(function*() {
      const sellers = Array.from({ length: 20 }, (_, i) => `seller_${i}`)
      const events = Array.from({ length: 200 }, (_, n) => event(sellers[n % sellers.length]!, n))
      yield* publish(...events)
      const seen = new Map<string, Array<number>>()
      const done = yield* Deferred.make<void>()
      let count = 0
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        lanes: 4,
        handle: (e) =>
          Effect.gen(function*() {
            // Uneven work, so that lanes interleave differently from the log.
            yield* Effect.sleep(`${(Number(e.data.productId.slice(4)) * 7) % 13} millis`)
            seen.set(e.data.sellerId, [...(seen.get(e.data.sellerId) ?? []), Date.parse(e.timestamp)])
            if (++count === events.length) yield* Deferred.succeed(done, void 0)
          })
      }))
      yield* TestClock.adjust("10 seconds")
      yield* Deferred.await(done)
      for (const [, times] of seen) expect(times).toEqual([...times].sort((a, b) => a - b))
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a later record finishing first never moves the commit past an earlier unfinished one", () =>
    Effect.gen(function*() {
      const [slow, fast] = sellersSharingPartition("seller_slow", 2) as [string, string]
      const positions = yield* publish(event(slow, 1), event(fast, 2), event(fast, 3))
      const partition = positions[0]!.partition
      const gate = yield* Deferred.make<void>()
      const finished: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: notificationService,
        lanes,
        handle: (e) =>
          (e.data.sellerId === slow ? Deferred.await(gate) : Effect.void).pipe(
            Effect.zipRight(Effect.sync(() => void finished.push(e.eventId)))
          )
      }))
      yield* TestClock.adjust("5 seconds")
      expect(finished).toEqual([event(fast, 2).eventId, event(fast, 3).eventId])
      expect(yield* committedOf("notification-service", partition)).toBe(positions[0]!.offset)

      yield* Deferred.succeed(gate, void 0)
      yield* TestClock.adjust("1 second")
      expect(yield* committedOf("notification-service", partition)).toBe(positions[2]!.offset + 1)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))
})
