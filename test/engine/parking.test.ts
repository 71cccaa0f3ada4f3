import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Queue, TestClock } from "effect"
import { deadLetterTopic, notificationService, productEventsTopic } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import { partitionFor } from "../../src/layers/kafka/Partitioner.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { revocableLog, committedOf, event, partitions, publish, readTopic, sellerOf, TestLayer, Unavailable } from "./fixtures.js"

const lanes = 8
/** Sellers on the partition and in the lane of `first`. */
const sellersSharingLane = (first: string, count: number): ReadonlyArray<string> => {
  const partition = partitionFor(first, partitions)
  const lane = ConsumerEngine.laneOf(first, lanes)
  const chosen = [first]
  for (let i = 0; chosen.length < count; i++) {
    const candidate = `seller_${i}`
    if (partitionFor(candidate, partitions) === partition && ConsumerEngine.laneOf(candidate, lanes) === lane) {
      chosen.push(candidate)
    }
  }
  return chosen
}

/** Handled events, by id, with the TestClock time each was handled at. */
const recorder = () => {
  const handled: Array<{ readonly id: string; readonly seller: string; readonly at: number }> = []
  const attempts = new Map<string, number>()
  return {
    handled,
    ids: (seller?: string) => handled.filter((h) => seller === undefined || h.seller === seller).map((h) => h.id),
    at: (id: string) => handled.find((h) => h.id === id)?.at,
    attemptsOf: (id: string) => attempts.get(id) ?? 0,
    /** Fails the event's first `failures` attempts (retriable), then records it. */
    attempt: (e: ReturnType<typeof event>, failures: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const n = (attempts.get(e.eventId) ?? 0) + 1
        attempts.set(e.eventId, n)
        if (n <= failures) return Effect.fail(new Unavailable({ message: `attempt ${n} of ${e.eventId}` }))
        handled.push({ id: e.eventId, seller: e.data.sellerId, at: now })
        return Effect.void
      })
  }
}

type Recorder = ReturnType<typeof recorder>

/**
 * The engine in the background on notification-service's contract with `lanes` lanes: each event's first
 * `failuresOf(event)` attempts fail (retriable), then `rec` records it.
 */
const start = (
  rec: Recorder,
  failuresOf: (e: ReturnType<typeof event>) => number,
  options: Omit<ConsumerEngine.RunOptions<Unavailable, never>, "contract" | "handle" | "stats"> = {}
) =>
  Effect.gen(function*() {
    const stats = new ConsumerEngine.EngineStats()
    const engine = yield* Effect.fork(ConsumerEngine.run({
      contract: notificationService,
      lanes,
      stats,
      ...options,
      handle: (e) => rec.attempt(e, failuresOf(e))
    }))
    return { engine, stats }
  })

describe("ConsumerEngine per-seller parking", () => {
  it.effect("a retrying seller holds back only its own later events, not other sellers of its lane; the commit waits for it", () =>
    Effect.gen(function*() {
      const [a, b] = sellersSharingLane("seller_a", 2) as [string, string]
      const stuck = event(a, 1)
      const a3 = event(a, 3)
      const events = [stuck, event(b, 2), a3, event(b, 4), event(a, 5), event(b, 6)]
      const positions = yield* publish(...events)
      const partition = positions[0]!.partition
      expect(new Set(positions.map((p) => p.partition))).toEqual(new Set([partition]))

      const rec = recorder()
      // The stuck event always fails (dead-lettered after its retries); a3 fails once in the parked fiber.
      const { engine, stats } = yield* start(rec, (e) => e.eventId === stuck.eventId ? Infinity : e.eventId === a3.eventId ? 1 : 0)
      yield* TestClock.adjust("100 millis")
      expect(rec.ids(b)).toEqual([event(b, 2), event(b, 4), event(b, 6)].map((e) => e.eventId))
      expect(rec.ids(a)).toEqual([])
      expect(stats.liveParked).toBe(1)

      // During the retries (about 15.5 s nominal): A's later events wait, the commit stays at the stuck record.
      for (let t = 0; t < 12; t++) {
        yield* TestClock.adjust("1 second")
        expect(rec.ids(a)).toEqual([])
        expect(yield* committedOf("notification-service", partition)).toBe(positions[0]!.offset)
      }

      yield* TestClock.adjust("1 minute")
      expect(rec.ids(a)).toEqual([a3.eventId, event(a, 5).eventId])
      const dead = yield* readTopic(deadLetterTopic("notification-service"))
      expect(dead.map(sellerOf)).toEqual([a])
      expect(dead[0]!.headers[deadLetterHeaders.attempts]).toBe("6")
      expect(dead[0]!.headers[deadLetterHeaders.reason]).toBe("retries-exhausted")
      expect(yield* committedOf("notification-service", partition)).toBe(positions.at(-1)!.offset + 1)
      expect(stats.liveParked).toBe(0)
      expect(stats.inFlight).toBe(0)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("past maxParkedPerLane the lane blocks: a third seller waits until the first un-parks", () =>
    Effect.gen(function*() {
      const [a, b, c] = sellersSharingLane("seller_a", 3) as [string, string, string]
      const [a1, b2, c3] = [event(a, 1), event(b, 2), event(c, 3)]
      const positions = yield* publish(a1, b2, c3)
      const rec = recorder()
      const { engine, stats } = yield* start(rec, (e) => e.eventId === a1.eventId ? 2 : e.eventId === b2.eventId ? 4 : 0, { maxParkedPerLane: 1 })
      yield* TestClock.adjust("100 millis")
      // A is parked; B failed too and waits for the only slot, holding the lane: C waits.
      expect(rec.handled).toEqual([])
      expect(stats.liveParked).toBe(1)

      yield* TestClock.adjust("1 minute")
      expect(rec.handled.map((h) => h.id)).toEqual([a1.eventId, c3.eventId, b2.eventId])
      // C went through as soon as A un-parked (and B took the slot), long before B's retries ended.
      expect(rec.at(c3.eventId)).toBe(rec.at(a1.eventId))
      expect(rec.at(b2.eventId)!).toBeGreaterThan(rec.at(c3.eventId)! + 1000)
      expect(stats.peakLiveParked).toBe(1)
      expect(stats.peakLiveFibers).toBeLessThanOrEqual(lanes * 2)
      expect(yield* committedOf("notification-service", positions[0]!.partition)).toBe(positions[2]!.offset + 1)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("with maxParkedPerLane 0 nothing is parked: a retry holds its lane, which keeps arrival order", () =>
    Effect.gen(function*() {
      const [a, b] = sellersSharingLane("seller_a", 2) as [string, string]
      const [a1, b2, a3] = [event(a, 1), event(b, 2), event(a, 3)]
      yield* publish(a1, b2, a3)
      const rec = recorder()
      const { engine, stats } = yield* start(rec, (e) => e.eventId === a1.eventId ? 2 : 0, { maxParkedPerLane: 0 })
      yield* TestClock.adjust("100 millis")
      expect(rec.handled).toEqual([])
      yield* TestClock.adjust("1 minute")
      expect(rec.handled.map((h) => h.id)).toEqual([a1.eventId, b2.eventId, a3.eventId])
      expect(rec.at(b2.eventId)).toBe(rec.at(a1.eventId))
      expect(stats.peakLiveParked).toBe(0)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a full parked queue blocks the lane until the parked seller makes room; order is kept", () =>
    Effect.gen(function*() {
      const [a, b, c] = sellersSharingLane("seller_a", 3) as [string, string, string]
      const [a1, a2, c3, a4, b5] = [event(a, 1), event(a, 2), event(c, 3), event(a, 4), event(b, 5)]
      yield* publish(a1, a2, c3, a4, b5)
      const rec = recorder()
      const { engine } = yield* start(rec, (e) => e.eventId === a1.eventId ? 2 : 0, { laneCapacity: 1 })
      yield* TestClock.adjust("100 millis")
      // A is parked with a2 queued behind it (one record per parked queue): c3 goes on; a4 finds A's
      // queue full and blocks the lane, so b5 waits.
      expect(rec.ids()).toEqual([c3.eventId])
      yield* TestClock.adjust("1 minute")
      expect(rec.ids(a)).toEqual([a1, a2, a4].map((e) => e.eventId))
      expect(rec.ids(b)).toEqual([b5.eventId])
      expect(rec.at(b5.eventId)).toBe(rec.at(a1.eventId))
      expect(rec.at(a1.eventId)!).toBeGreaterThan(1000)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("revocation drops a parked seller's records: no more retries, no dead letter, no commit past them", () =>
    Effect.gen(function*() {
      const { log, rebalances } = yield* revocableLog
      yield* Effect.gen(function*() {
        const [a, b] = sellersSharingLane("seller_a", 2) as [string, string]
        const [a1, b2, a3] = [event(a, 1), event(b, 2), event(a, 3)]
        const positions = yield* publish(a1, b2, a3)
        const partition = positions[0]!.partition
        const rec = recorder()
        const { engine, stats } = yield* start(rec, (e) => e.eventId === a1.eventId ? Infinity : 0)
        yield* TestClock.adjust("100 millis")
        expect(rec.ids()).toEqual([b2.eventId])
        yield* Queue.offer(rebalances, { _tag: "Revoked", partitions: [{ topic: productEventsTopic, partition }] })
        yield* TestClock.adjust("100 millis")
        expect(yield* committedOf("notification-service", partition)).toBe(positions[0]!.offset)
        yield* TestClock.adjust("1 minute")
        expect(rec.attemptsOf(a1.eventId)).toBe(1)
        expect(rec.ids()).toEqual([b2.eventId])
        expect(yield* readTopic(deadLetterTopic("notification-service"))).toEqual([])
        expect(stats.liveParked).toBe(0)
        expect(stats.inFlight).toBe(0)
        yield* Fiber.interrupt(engine)
        expect(yield* committedOf("notification-service", partition)).toBe(positions[0]!.offset)
      }).pipe(Effect.provideService(EventLog, log))
    }).pipe(Effect.provide(Metrics.Default)))

  it.effect("shutdown drains parked sellers too, then commits", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const [a, b] = sellersSharingLane("seller_a", 2) as [string, string]
      const events = [event(a, 1), event(b, 2), event(a, 3)]
      yield* publish(...events)
      const rec = recorder()
      const { engine, stats } = yield* start(rec, (e) => e.eventId === events[0]!.eventId ? 3 : 0, { shutdownTimeout: "1 minute" })
      yield* TestClock.adjust("100 millis")
      expect(rec.ids()).toEqual([events[1]!.eventId])
      const stopping = yield* Effect.fork(Fiber.interrupt(engine))
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(stopping)
      expect(rec.ids(a)).toEqual([events[0]!.eventId, events[2]!.eventId])
      const committed = yield* log.committed("notification-service", productEventsTopic)
      expect(committed.reduce((n, c) => n + Math.max(c.offset, 0), 0)).toBe(events.length)
      expect(stats.liveParked).toBe(0)
      expect(stats.liveLanes).toBe(0)
    }).pipe(Effect.provide(TestLayer)))
})
