import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { Kafka } from "kafkajs"
import { deadLetterTopic, productEventsTopic } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import { replayDeadLetters } from "../../src/services/DeadLetterReplay.js"
import { EventLog } from "../../src/services/EventLog.js"
import { unique } from "../support/unique.js"
import { brokers, kafkaLayer } from "./kafka-support.js"

/** product-events and the notification-service dead-letter topic, as topics of this test's own. */
const topics = { events: unique("replay-events"), dlq: unique("replay-dlq") }
const renamed = Layer.effect(
  EventLog,
  Effect.map(EventLog, (log) => {
    const rename = (name: string) =>
      name === productEventsTopic ? topics.events : name === deadLetterTopic("notification-service") ? topics.dlq : name
    return EventLog.of({
      ...log,
      produce: (name, messages) => log.produce(rename(name), messages),
      subscribe: (options) =>
        Effect.map(log.subscribe({ ...options, topics: options.topics.map(rename) }), (subscription) => ({
          ...subscription,
          commit: (offsets) => subscription.commit(offsets.map((o) => ({ ...o, topic: rename(o.topic) })))
        })),
      committed: (group, name) => log.committed(group, rename(name)),
      startOffsets: (name) => log.startOffsets(rename(name)),
      endOffsets: (name) => log.endOffsets(rename(name)),
      ensureTopic: (name, partitions) => log.ensureTopic(rename(name), partitions)
    })
  })
).pipe(Layer.provide(kafkaLayer()))

const letter = (i: number) => ({
  key: `seller_${i}`,
  value: new TextEncoder().encode(`{"not":"an event ${i}"}`),
  headers: { eventType: "ProductCreated", [deadLetterHeaders.reason]: "decode-failed" }
})

/** Deletes the partition's records below `offset`, as retention does when a segment expires. */
const deleteRecordsBefore = (topic: string, offset: number) =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const admin = new Kafka({ clientId: "product-events-test", brokers, logLevel: 0 }).admin()
      await admin.connect()
      return admin
    }),
    (admin) =>
      Effect.promise(async () => {
        await admin.fetchTopicMetadata({ topics: [topic] }) // deleteTopicRecords needs the metadata loaded
        await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(offset) }] })
      }),
    (admin) => Effect.promise(() => admin.disconnect())
  )

describe("dead-letter replay on Kafka", () => {
  layer(renamed, { timeout: Duration.seconds(60) })((it) => {
    it.effect("dead letters deleted by retention are neither replayed nor waited for: replay starts at the low offset", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        yield* log.ensureTopic(productEventsTopic, 1)
        yield* log.ensureTopic(deadLetterTopic("notification-service"), 1)
        yield* log.produce(deadLetterTopic("notification-service"), [1, 2, 3, 4, 5].map(letter))
        yield* deleteRecordsBefore(topics.dlq, 3)
        expect((yield* log.startOffsets(deadLetterTopic("notification-service"))).map((s) => s.offset)).toEqual([3])

        const replayed = yield* replayDeadLetters({ group: "notification-service", dryRun: false }).pipe(
          Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("replay waited for deleted dead letters") })
        )
        expect(replayed.map((r) => r.record.offset)).toEqual([3, 4])
        expect(replayed.map((r) => r.record.key)).toEqual(["seller_4", "seller_5"])
        expect((yield* replayDeadLetters({ group: "notification-service", dryRun: true })).map((r) => r.record.offset)).toEqual([])
        expect((yield* log.endOffsets(productEventsTopic)).map((e) => e.offset)).toEqual([2])
      }))
  })
})
