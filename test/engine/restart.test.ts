import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Stream, TestClock } from "effect"
import { notificationService } from "../../src/domain/Consumers.js"
import { make as makeMemoryLog } from "../../src/layers/EventLogMemory.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog, EventLogError } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { committedOf, event, publish, topics } from "./fixtures.js"

/**
 * An in-memory log whose subscriptions can be crashed by the test, the way a Kafka client that
 * gives up fails its subscription's record stream.
 */
const crashableLog = Effect.gen(function*() {
  const memory = yield* makeMemoryLog({ topics })
  const crashes: Array<Deferred.Deferred<never, EventLogError>> = []
  const log = EventLog.of({
    ...memory,
    subscribe: (options) =>
      Effect.gen(function*() {
        const subscription = yield* memory.subscribe(options)
        const crash = yield* Deferred.make<never, EventLogError>()
        crashes.push(crash)
        return { ...subscription, records: subscription.records.pipe(Stream.interruptWhen(Deferred.await(crash))) }
      })
  })
  const crashLatest = Effect.suspend(() =>
    Deferred.fail(crashes.at(-1)!, new EventLogError({ operation: "consume", cause: "the client crashed" }))
  )
  return { log, subscriptions: () => crashes.length, crashLatest }
})

const restartsOf = (group: string) =>
  Effect.flatMap(Metrics, (metrics) => Effect.promise(() => metrics.restarts.get())).pipe(
    Effect.map(({ values }) => values.filter((v) => v.labels.group === group).reduce((n, v) => n + v.value, 0))
  )

describe("ConsumerEngine supervision", () => {
  it.effect("a failed subscription is replaced after the restart delay, and consuming goes on from the committed offsets", () =>
    Effect.gen(function*() {
      const { crashLatest, log, subscriptions } = yield* crashableLog
      yield* Effect.gen(function*() {
        const handled: Array<string> = []
        const engine = yield* Effect.fork(ConsumerEngine.supervised({
          contract: notificationService,
          handle: (e) => Effect.sync(() => void handled.push(e.eventId))
        }))
        const before = [event("seller_1", 1), event("seller_1", 2), event("seller_2", 3)]
        yield* publish(...before)
        yield* TestClock.adjust("1 second")
        expect([...handled].sort()).toEqual(before.map((e) => e.eventId).sort())

        yield* crashLatest
        const after = [event("seller_1", 4), event("seller_2", 5)]
        const [fourth] = yield* publish(...after)
        // The first restart waits 1 s, jittered by at most 20%: nothing is consumed before 0.8 s.
        yield* TestClock.adjust("700 millis")
        expect(subscriptions()).toBe(1)
        expect(yield* restartsOf("notification-service")).toBe(1)
        expect(handled).toHaveLength(3)

        yield* TestClock.adjust("600 millis")
        expect(subscriptions()).toBe(2)
        yield* TestClock.adjust("1 second")
        // The finished records were committed when the first subscription ended: none is handled twice.
        expect([...handled].sort()).toEqual([...before, ...after].map((e) => e.eventId).sort())
        expect(yield* committedOf("notification-service", fourth!.partition)).toBeGreaterThan(fourth!.offset)

        // A second failure right after: the delay has doubled (2 s, jittered).
        yield* crashLatest
        yield* TestClock.adjust("1500 millis")
        expect(subscriptions()).toBe(2)
        yield* TestClock.adjust("1 second")
        expect(subscriptions()).toBe(3)
        expect(yield* restartsOf("notification-service")).toBe(2)
        yield* Fiber.interrupt(engine)
      }).pipe(Effect.provide(Layer.succeed(EventLog, log)))
    }).pipe(Effect.provide(Metrics.Default)))
})
