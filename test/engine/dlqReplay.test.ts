import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { deadLetterTopic, productEventsTopic } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import * as EventLogMemory from "../../src/layers/EventLogMemory.js"
import { replayDeadLetters } from "../../src/services/DeadLetterReplay.js"
import { EventLog } from "../../src/services/EventLog.js"

const letter = (i: number) => ({
  key: `seller_${i}`,
  value: new TextEncoder().encode(`{"not":"an event ${i}"}`),
  headers: {
    eventType: "ProductCreated",
    [deadLetterHeaders.reason]: "decode-failed",
    [deadLetterHeaders.error]: "eventId is missing",
    [deadLetterHeaders.sourcePartition]: "3",
    [deadLetterHeaders.sourceOffset]: String(100 + i)
  }
})

describe("dead-letter replay", () => {
  it.scoped("republishes dead letters with their original key, bytes and headers, once", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      yield* log.produce(deadLetterTopic("notification-service"), [letter(1), letter(2), letter(3)])

      const dry = yield* replayDeadLetters({ group: "notification-service", dryRun: true })
      expect(dry.map((r) => r.reason)).toEqual(["decode-failed", "decode-failed", "decode-failed"])
      expect((yield* log.endOffsets(productEventsTopic)).reduce((n, p) => n + p.offset, 0)).toBe(0)

      const first = yield* replayDeadLetters({ group: "notification-service", dryRun: false, limit: 2 })
      expect(first).toHaveLength(2)
      const rest = yield* replayDeadLetters({ group: "notification-service", dryRun: false })
      expect(rest).toHaveLength(1)
      expect(yield* replayDeadLetters({ group: "notification-service", dryRun: false })).toHaveLength(0)

      const sub = yield* log.subscribe({ group: "reader", topics: [productEventsTopic] })
      const replayed = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(sub.records, 3)))
      expect(replayed.map((r) => r.key).sort()).toEqual(["seller_1", "seller_2", "seller_3"])
      for (const r of replayed) {
        // Only the dlq-* headers are dropped: the traceparent the dead letter was produced with stays.
        expect(r.headers).toEqual({ eventType: "ProductCreated", traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/) })
        expect(new TextDecoder().decode(r.value)).toMatch(/^\{"not":"an event \d"\}$/)
      }
    }).pipe(Effect.provide(
      EventLogMemory.layerMemory({ topics: { [productEventsTopic]: 12, [deadLetterTopic("notification-service")]: 1 } })
    )))
})
