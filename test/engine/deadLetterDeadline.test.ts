import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { deadLetterTopic } from "../../src/domain/Consumers.js"
import * as EventLogMemory from "../../src/layers/EventLogMemory.js"
import { sendDeadLetters } from "../../src/services/DeadLetters.js"
import { EventLog, type LogRecord } from "../../src/services/EventLog.js"

const dlq = deadLetterTopic("notification-service")

const record: LogRecord = {
  topic: "product-events",
  partition: 3,
  offset: 41,
  key: "s1",
  value: new TextEncoder().encode("{}"),
  headers: { eventType: "ProductCreated" },
  timestamp: 0
}

describe("sendDeadLetters against a broker that stops answering", () => {
  it.effect("gives an attempt 30 s, then retries it: the letter goes out once the broker answers again", () =>
    Effect.gen(function*() {
      const log = yield* EventLogMemory.make({ topics: { [dlq]: 1 } })
      let attempts = 0
      // The first produce to the dead-letter topic is never acknowledged (a hung broker), later ones are.
      const hungOnce = EventLog.of({
        ...log,
        produce: (topic, messages) => Effect.suspend(() => ++attempts === 1 ? Effect.never : log.produce(topic, messages))
      })
      const info = { reason: "non-retriable", error: "bad", errorTag: "DecodeError", attempts: 1, failedAt: new Date(0) } as const
      const sending = yield* Effect.fork(sendDeadLetters(hungOnce, "notification-service", [record], info))
      yield* TestClock.adjust("29999 millis")
      expect(attempts).toBe(1)
      yield* TestClock.adjust("1 millis") // the attempt gives up; the retry follows after 100 ms
      yield* TestClock.adjust("100 millis")
      yield* Fiber.join(sending)
      expect(attempts).toBe(2)
      expect(yield* log.endOffsets(dlq)).toEqual([{ topic: dlq, partition: 0, offset: 1 }])
    }))
})
