import { describe, expect, it } from "@effect/vitest"
import { Cause, Data, Effect, Fiber, FiberId, TestClock } from "effect"
import { analyticsService, deadLetterTopic, productEventsTopic } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { deadLetterReason, describeCause } from "../../src/services/DeadLetters.js"
import { EventLog } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { event, message, readTopic, Rejected, TestLayer, Unavailable } from "./fixtures.js"

const bytes = (s: string) => new TextEncoder().encode(s)

describe("ConsumerEngine dead letters and subscriptions", () => {
  it.effect("decode failures go to the dead-letter topic at once, with the original bytes and why; other types are skipped", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const metrics = yield* Metrics
      const good = event("seller_1", 1)
      const wrongId = { ...event("seller_1", 2), eventId: "seller_1-sku_2-ProductCreated-1000000000000" }
      const lowStock = event("seller_1", 3, "LowStockWarning")
      const notJson = { key: "seller_1", value: bytes("{not json"), headers: { eventType: "ProductCreated", traceparent: "t-1" } }
      const positions = yield* log.produce(productEventsTopic, [
        notJson,
        message(wrongId as ReturnType<typeof event>),
        message(lowStock),
        message(good)
      ])
      const handled: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: analyticsService,
        handle: (e) => Effect.sync(() => void handled.push(e.eventId))
      }))
      yield* TestClock.adjust("1 second")
      expect(handled).toEqual([good.eventId])

      const dead = yield* readTopic(deadLetterTopic("analytics-service"))
      expect(dead.length).toBe(2)
      const [first, second] = [...dead].sort((a, b) => Number(a.headers["dlq-source-offset"]) - Number(b.headers["dlq-source-offset"]))
      expect(first!.value).toEqual(notJson.value)
      expect(first!.key).toBe("seller_1")
      expect(first!.headers).toMatchObject({
        eventType: "ProductCreated",
        traceparent: "t-1",
        [deadLetterHeaders.reason]: "decode-failed",
        [deadLetterHeaders.errorTag]: "DecodeError",
        [deadLetterHeaders.sourceTopic]: productEventsTopic,
        [deadLetterHeaders.sourcePartition]: String(positions[0]!.partition),
        [deadLetterHeaders.sourceOffset]: String(positions[0]!.offset),
        [deadLetterHeaders.attempts]: "1",
        [deadLetterHeaders.consumerGroup]: "analytics-service",
        [deadLetterHeaders.failedAt]: "1970-01-01T00:00:00.000Z"
      })
      expect(first!.headers[deadLetterHeaders.error]).toMatch(/JSON/)
      expect(second!.headers[deadLetterHeaders.sourceOffset]).toBe(String(positions[1]!.offset))
      expect(second!.headers[deadLetterHeaders.error]).toMatch(/^eventId: must equal seller_1-sku_2-ProductCreated-\d{13}/)
      expect(new TextDecoder().decode(second!.value)).toBe(JSON.stringify(wrongId))

      const committed = yield* log.committed("analytics-service", productEventsTopic)
      const ends = yield* log.endOffsets(productEventsTopic)
      expect(committed.map((c) => c.offset)).toEqual(ends.map((e) => (e.offset === 0 ? -1 : e.offset)))

      const outcomes = (yield* Effect.promise(() => metrics.consumed.get())).values
        .map((v) => [v.labels.outcome, v.labels.event_type, v.value])
      expect(outcomes).toEqual(expect.arrayContaining([
        ["done", "ProductCreated", 1],
        ["skipped", "LowStockWarning", 1],
        ["dead_lettered", "ProductCreated", 2]
      ]))
      const reasons = (yield* Effect.promise(() => metrics.deadLettered.get())).values.map((v) => [v.labels.reason, v.value])
      expect(reasons).toEqual([["decode-failed", 2]])
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a dead letter that cannot get out (even a defect of the log's client) is retried until it is; only then committed", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      let failures = 3
      const failing = EventLog.of({
        ...log,
        produce: (topic, messages) =>
          Effect.suspend(() =>
            topic === deadLetterTopic("analytics-service") && failures-- > 0 ? Effect.die(new Error("producer client crashed")) : log.produce(topic, messages)
          )
      })
      const good = event("seller_1", 2)
      yield* log.produce(productEventsTopic, [{ key: "seller_1", value: bytes("{not json"), headers: { eventType: "ProductCreated" } }, message(good)])
      const handled: Array<string> = []
      const engine = yield* Effect.fork(ConsumerEngine.run({
        contract: analyticsService,
        // Commits every 50 ms: by 100 ms two have run, so "nothing committed" is the dead letter's doing.
        commitInterval: "50 millis",
        handle: (e) => Effect.sync(() => void handled.push(e.eventId))
      }).pipe(Effect.provideService(EventLog, failing)))
      yield* TestClock.adjust("100 millis")
      // The seller's next record waits behind its dead letter; nothing committed.
      expect(handled).toEqual([])
      const committedBefore = (yield* log.committed("analytics-service", productEventsTopic)).reduce((n, c) => n + Math.max(c.offset, 0), 0)
      expect(committedBefore).toBe(0)
      yield* TestClock.adjust("1 second") // retried after 100, 200, 400 ms: out on the fourth attempt
      expect(handled).toEqual([good.eventId])
      const dead = yield* readTopic(deadLetterTopic("analytics-service"))
      expect(dead.map((r) => r.headers[deadLetterHeaders.reason])).toEqual(["decode-failed"])
      const committed = (yield* log.committed("analytics-service", productEventsTopic)).reduce((n, c) => n + Math.max(c.offset, 0), 0)
      expect(committed).toBe(2)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a record without an eventType header is decoded and skipped if its type is not subscribed", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const { headers: _, ...bare } = message(event("seller_1", 1, "LowStockWarning"))
      yield* log.produce(productEventsTopic, [bare])
      let calls = 0
      const engine = yield* Effect.fork(ConsumerEngine.run({ contract: analyticsService, handle: () => Effect.sync(() => void calls++) }))
      yield* TestClock.adjust("1 second")
      expect(calls).toBe(0)
      expect((yield* log.endOffsets(deadLetterTopic("analytics-service"))).reduce((n, p) => n + p.offset, 0)).toBe(0)
      const committed = yield* log.committed("analytics-service", productEventsTopic)
      expect(committed.reduce((n, c) => n + Math.max(c.offset, 0), 0)).toBe(1)
      yield* Fiber.interrupt(engine)
    }).pipe(Effect.provide(TestLayer)))
})

describe("why a record is dead-lettered (deadLetterReason, describeCause)", () => {
  class Conflicting extends Data.TaggedError("Conflicting")<{ readonly message: string }> {
    readonly retriable = false
    readonly deadLetterReason = "conflict"
  }

  it("a retriable failure exhausted its retries; a terminal one is non-retriable unless it names its reason; a defect is never retried", () => {
    expect(deadLetterReason(Cause.fail(new Unavailable({ message: "store down" })))).toBe("retries-exhausted")
    expect(deadLetterReason(Cause.fail(new Rejected({ message: "no" })))).toBe("non-retriable")
    expect(deadLetterReason(Cause.fail(new Conflicting({ message: "other content" })))).toBe("conflict")
    expect(deadLetterReason(Cause.die(new Error("bug")))).toBe("non-retriable")
  })

  it("describes a failure by its own message and tag, a defect or an interruption by the whole cause", () => {
    expect(describeCause(Cause.fail(new Rejected({ message: "no" })))).toEqual({ message: "no", tag: "Rejected" })
    expect(describeCause(Cause.fail({ code: 7 }))).toEqual({ message: "{\"code\":7}", tag: "Object" })
    expect(describeCause(Cause.fail("plain"))).toEqual({ message: "plain", tag: "string" })
    const defect = describeCause(Cause.die(new Error("bug")))
    expect(defect.tag).toBe("Defect")
    expect(defect.message).toContain("bug")
    expect(describeCause(Cause.interrupt(FiberId.none)).tag).toBe("Interrupted")
  })
})
