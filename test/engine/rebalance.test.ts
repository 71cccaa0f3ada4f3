import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Queue, TestClock } from "effect"
import { notificationService } from "../../src/domain/Consumers.js"
import { partitionFor } from "../../src/layers/kafka/Partitioner.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { revocableLog, committedOf, event, partitions, publish } from "./fixtures.js"

describe("ConsumerEngine rebalances", () => {
  it.effect("on Revoked it stops feeding the partition, commits its finished prefix and forgets it", () =>
    Effect.gen(function*() {
      const { log, rebalances } = yield* revocableLog
      yield* Effect.gen(function*() {
        const [fast, slow] = ["seller_3", "seller_7"]
        expect(partitionFor(fast, partitions)).toBe(partitionFor(slow, partitions))
        const positions = yield* publish(event(fast, 1), event(slow, 2), event(fast, 3))
        const partition = positions[0]!.partition
        const gate = yield* Deferred.make<void>()
        const handled: Array<string> = []
        const engine = yield* Effect.fork(ConsumerEngine.run({
          contract: notificationService,
          lanes: 8,
          handle: (e) =>
            (e.data.sellerId === slow ? Deferred.await(gate) : Effect.void).pipe(
              Effect.zipRight(Effect.sync(() => void handled.push(e.eventId)))
            )
        }))
        yield* TestClock.adjust("100 millis")
        expect(handled).toEqual([event(fast, 1).eventId, event(fast, 3).eventId])
        const lagOf = Effect.flatMap(Metrics, (metrics) => Effect.promise(() => metrics.lag.get())).pipe(
          Effect.map(({ values }) => values.filter((v) => v.labels.partition === String(partition)).map((v) => v.value))
        )
        yield* TestClock.adjust("1 second")
        expect(yield* lagOf).toEqual([2])

        yield* Queue.offer(rebalances, { _tag: "Revoked", partitions: [{ topic: "product-events", partition }] })
        yield* TestClock.adjust("100 millis")
        expect(yield* committedOf("notification-service", partition)).toBe(positions[1]!.offset)
        expect(yield* lagOf).toEqual([])

        yield* publish(event(fast, 4))
        yield* Deferred.succeed(gate, void 0)
        yield* TestClock.adjust("5 seconds")
        expect(handled).not.toContain(event(fast, 4).eventId)
        expect(yield* committedOf("notification-service", partition)).toBe(positions[1]!.offset)
        yield* Fiber.interrupt(engine)
        expect(yield* committedOf("notification-service", partition)).toBe(positions[1]!.offset)
      }).pipe(Effect.provideService(EventLog, log))
    }).pipe(Effect.provide(Metrics.Default)))

  it.effect("on Assigned it runs onAssign with the partitions, and only then lets their records in again", () =>
    Effect.gen(function*() {
      const { log, rebalances } = yield* revocableLog
      yield* Effect.gen(function*() {
        const seller = "seller_3"
        const [first] = yield* publish(event(seller, 1))
        const partition = first!.partition
        const handled: Array<string> = []
        const moves: Array<string> = []
        const assigning = yield* Deferred.make<void>()
        const engine = yield* Effect.fork(ConsumerEngine.run({
          contract: notificationService,
          lanes: 8,
          handle: (e) => Effect.sync(() => void handled.push(e.eventId)),
          onAssign: (ps) =>
            Effect.zipRight(Deferred.await(assigning), Effect.sync(() => void moves.push(`assigned ${ps.map((p) => p.partition).join(",")}`))),
          onRevoke: (ps) => Effect.sync(() => void moves.push(`revoked ${ps.map((p) => p.partition).join(",")}`))
        }))
        yield* TestClock.adjust("100 millis")
        expect(handled).toEqual([event(seller, 1).eventId])

        const tp = [{ topic: "product-events", partition }]
        yield* Queue.offer(rebalances, { _tag: "Revoked", partitions: tp })
        yield* TestClock.adjust("100 millis")
        yield* publish(event(seller, 2))
        yield* TestClock.adjust("100 millis")
        expect(handled).toEqual([event(seller, 1).eventId])

        // While onAssign runs, the partition's records are not let in.
        yield* Queue.offer(rebalances, { _tag: "Assigned", partitions: tp })
        yield* TestClock.adjust("100 millis")
        yield* publish(event(seller, 3))
        yield* TestClock.adjust("100 millis")
        expect(handled).toEqual([event(seller, 1).eventId])
        yield* Deferred.succeed(assigning, void 0)
        yield* TestClock.adjust("100 millis")
        expect(moves).toEqual([`revoked ${partition}`, `assigned ${partition}`])
        yield* publish(event(seller, 4))
        yield* TestClock.adjust("100 millis")
        expect(handled).toContain(event(seller, 4).eventId)
        yield* Fiber.interrupt(engine)
      }).pipe(Effect.provideService(EventLog, log))
    }).pipe(Effect.provide(Metrics.Default)))
})
