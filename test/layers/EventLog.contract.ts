import { expect, layer } from "@effect/vitest"
import { Chunk, Effect, type Layer, Stream } from "effect"
import { partitionFor } from "../../src/layers/kafka/Partitioner.js"
import { EventLog, type LogRecord } from "../../src/services/EventLog.js"

/**
 * The behaviour every EventLog layer must have, run against the in-memory layer and (later) Kafka.
 * Every test uses its own topics and groups, so the suite can share one broker. Live clock:
 * the guards below are timeouts, never sleeps.
 */
export const eventLogContract = <E>(name: string, eventLog: Layer.Layer<EventLog, E>) =>
  layer(eventLog, { excludeTestServices: true, timeout: "60 seconds" })(`EventLog contract: ${name}`, (it) => {
    const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
    const bytes = (s: string) => new TextEncoder().encode(s)
    const text = (b: Uint8Array) => new TextDecoder().decode(b)

    const take = (records: Stream.Stream<LogRecord, unknown>, n: number) =>
      records.pipe(
        Stream.take(n),
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray),
        Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error(`fewer than ${n} records arrived`) })
      )

    const subscribeTo = (group: string, topic: string) =>
      Effect.flatMap(EventLog, (log) => log.subscribe({ group, topics: [topic] }))

    it.scoped("partitions by key as Kafka's default partitioner: one key, one partition", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("keys")
        yield* log.ensureTopic(topic, 6)
        const keys = ["seller_1", "seller_2", "seller_42", "s", "another_seller_with_a_long_id"]
        const messages = keys.flatMap((key) => [1, 2, 3].map((i) => ({ key, value: bytes(`${key}:${i}`) })))
        const positions = yield* log.produce(topic, messages)
        messages.forEach((m, i) => expect(positions[i]!.partition).toBe(partitionFor(m.key, 6)))
        const ends = yield* log.endOffsets(topic)
        expect(ends.length).toBe(6)
        expect(ends.reduce((n, e) => n + e.offset, 0)).toBe(messages.length)
      }))

    it.scoped("delivers each partition in offset order, with key, value and headers as produced", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("order")
        yield* log.ensureTopic(topic, 3)
        const keys = ["a1", "b2", "c3", "d4"]
        const messages = Array.from({ length: 40 }, (_, i) => ({
          key: keys[i % keys.length]!,
          value: bytes(`${i}`),
          headers: { eventType: i % 2 === 0 ? "ProductCreated" : "ProductUpdated", seq: `${i}` }
        }))
        yield* log.produce(topic, messages)
        const subscription = yield* subscribeTo(unique("g"), topic)
        const records = yield* take(subscription.records, messages.length)
        for (const partition of [0, 1, 2]) {
          const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset)
          expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
        }
        for (const key of keys) {
          const values = records.filter((r) => r.key === key).map((r) => Number(text(r.value)))
          expect(values).toEqual(messages.flatMap((m, i) => (m.key === key ? [i] : [])))
        }
        for (const record of records) {
          const i = Number(text(record.value))
          expect(record.topic).toBe(topic)
          expect(record.headers).toMatchObject(messages[i]!.headers)
        }
      }))

    it.scoped("a record carries its produce's span as traceparent, in the caller's trace; its own traceparent is kept", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("trace")
        yield* log.ensureTopic(topic, 1)
        const replayed = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        const span = yield* log.produce(topic, [
          { key: "k", value: bytes("fresh") },
          { key: "k", value: bytes("replayed"), headers: { traceparent: replayed } }
        ]).pipe(Effect.zipRight(Effect.currentSpan), Effect.withSpan("publish"))
        yield* log.produce(topic, [{ key: "k", value: bytes("untraced") }])
        const records = yield* Effect.flatMap(subscribeTo(unique("g"), topic), (s) => take(s.records, 3))
        const traceparent = (value: string) => records.find((r) => text(r.value) === value)!.headers["traceparent"]
        // The produce's own span (a child of "publish"), in the caller's trace.
        expect(traceparent("fresh")).toMatch(new RegExp(`^00-${span.traceId}-[0-9a-f]{16}-01$`))
        expect(traceparent("replayed")).toBe(replayed)
        // Outside any span, the produce's span is the root of a trace of its own.
        expect(traceparent("untraced")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
        expect(traceparent("untraced")).not.toContain(span.traceId)
      }))

    it.scoped("delivers records produced after subscribing", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("live")
        yield* log.ensureTopic(topic, 2)
        const subscription = yield* subscribeTo(unique("g"), topic)
        const received = yield* Effect.fork(take(subscription.records, 3))
        yield* log.produce(topic, [1, 2, 3].map((i) => ({ key: `k${i}`, value: bytes(`v${i}`) })))
        const records = yield* received.await.pipe(Effect.flatten)
        expect(records.map((r) => text(r.value)).sort()).toEqual(["v1", "v2", "v3"])
      }))

    it.scoped("assigns every partition of the subscribed topics", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("assign")
        yield* log.ensureTopic(topic, 4)
        yield* log.produce(topic, [{ key: "k", value: bytes("v") }])
        const subscription = yield* subscribeTo(unique("g"), topic)
        yield* take(subscription.records, 1)
        const first = yield* subscription.rebalances.pipe(
          Stream.filter((r) => r._tag === "Assigned"),
          Stream.runHead,
          Effect.timeout("20 seconds")
        )
        expect(first._tag).toBe("Some")
        if (first._tag === "Some") {
          expect(first.value.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2, 3])
        }
      }))

    it.effect("a group resumes from its committed offset; committed() reports it, -1 where nothing is committed", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("resume")
        const group = unique("g")
        yield* log.ensureTopic(topic, 2)
        const key = "only_key"
        const partition = partitionFor(key, 2)
        yield* log.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key, value: bytes(`${i}`) })))
        yield* Effect.scoped(
          Effect.gen(function*() {
            const subscription = yield* subscribeTo(group, topic)
            const records = yield* take(subscription.records, 4)
            expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3])
            yield* subscription.commit([{ topic, partition, offset: 4 }])
          })
        )
        const committed = yield* log.committed(group, topic)
        expect(committed.find((c) => c.partition === partition)?.offset).toBe(4)
        expect(committed.find((c) => c.partition !== partition)?.offset).toBe(-1)
        yield* log.produce(topic, [{ key, value: bytes("10") }])
        const again = yield* Effect.scoped(
          Effect.flatMap(subscribeTo(group, topic), (subscription) => take(subscription.records, 7))
        )
        expect(again.map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9, 10])
        expect(again.map((r) => text(r.value))).toEqual(["4", "5", "6", "7", "8", "9", "10"])
      }))

    it.effect("groups are independent: one group's commits do not move another's", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("groups")
        const [a, b] = [unique("a"), unique("b")]
        yield* log.ensureTopic(topic, 1)
        yield* log.produce(topic, Array.from({ length: 5 }, (_, i) => ({ key: "k", value: bytes(`${i}`) })))
        yield* Effect.scoped(
          Effect.gen(function*() {
            const subscription = yield* subscribeTo(a, topic)
            yield* take(subscription.records, 5)
            yield* subscription.commit([{ topic, partition: 0, offset: 5 }])
          })
        )
        const fromB = yield* Effect.scoped(Effect.flatMap(subscribeTo(b, topic), (s) => take(s.records, 5)))
        expect(fromB.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4])
        expect((yield* log.committed(a, topic)).map((c) => c.offset)).toEqual([5])
        expect((yield* log.committed(b, topic)).map((c) => c.offset)).toEqual([-1])
      }))

    it.effect("the last commit wins: a later commit replaces an earlier one", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("commits")
        const group = unique("g")
        yield* log.ensureTopic(topic, 1)
        yield* log.produce(topic, Array.from({ length: 6 }, (_, i) => ({ key: "k", value: bytes(`${i}`) })))
        yield* Effect.scoped(
          Effect.gen(function*() {
            const subscription = yield* subscribeTo(group, topic)
            yield* take(subscription.records, 6)
            yield* subscription.commit([{ topic, partition: 0, offset: 2 }])
            expect((yield* log.committed(group, topic)).map((c) => c.offset)).toEqual([2])
            yield* subscription.commit([{ topic, partition: 0, offset: 5 }])
          })
        )
        expect((yield* log.committed(group, topic)).map((c) => c.offset)).toEqual([5])
        const next = yield* Effect.scoped(Effect.flatMap(subscribeTo(group, topic), (s) => take(s.records, 1)))
        expect(next.map((r) => r.offset)).toEqual([5])
      }))

    it.effect("ensureTopic is idempotent and endOffsets counts appended records", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const topic = unique("ensure")
        yield* log.ensureTopic(topic, 3)
        yield* log.ensureTopic(topic, 3)
        expect((yield* log.endOffsets(topic)).map((e) => e.offset)).toEqual([0, 0, 0])
        const positions = yield* log.produce(topic, [{ key: "x", value: bytes("1") }, { key: "x", value: bytes("2") }])
        expect(positions[1]!.offset).toBe(positions[0]!.offset + 1)
        const ends = yield* log.endOffsets(topic)
        expect(ends.find((e) => e.partition === positions[0]!.partition)?.offset).toBe(2)
        expect((yield* log.startOffsets(topic)).map((s) => s.offset)).toEqual([0, 0, 0])
        yield* log.ping
      }))
  })
