import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Stream } from "effect"
import { layerMemory } from "../../src/layers/EventLogMemory.js"
import { murmur2, partitionFor } from "../../src/layers/kafka/Partitioner.js"
import { EventLog } from "../../src/services/EventLog.js"

describe("murmur2 (Kafka's default partitioner)", () => {
  // Values from kafkajs's DefaultPartitioner spec (generated with Java's Utils.murmur2) and librdkafka.
  const known: ReadonlyArray<readonly [string, number]> = [
    ["0", 971027396],
    ["1", -1993445489],
    ["128", -326012175],
    ["2187", -1508407203],
    ["16384", -325739742],
    ["78125", -1654490814],
    ["279936", 1462227128],
    ["823543", -2014198330],
    ["2097152", 607668903],
    ["4782969", -1182699775],
    ["10000000", -1830336757],
    ["19487171", -1603849305],
    ["35831808", -857013643],
    ["62748517", -1167431028],
    ["105413504", -381294639],
    ["170859375", -1658323481],
    ["100:48069", 1009543857],
    ["21", -973932308],
    ["foobar", -790332482],
    ["abc", 479470107],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["kafka", -798503068]
  ]
  it("hashes a key with characters beyond ASCII by its UTF-8 bytes", () => {
    expect(murmur2("sellér✓")).toBe(murmur2(new TextEncoder().encode("sellér✓")))
  })

  it.each(known)("murmur2(%j) = %d", (key, hash) => {
    expect(murmur2(key)).toBe(hash)
    expect(murmur2(new TextEncoder().encode(key))).toBe(hash)
  })

  it("partitionFor keeps the sign bit off, as toPositive does", () => {
    expect(partitionFor("1", 12)).toBe((-1993445489 & 0x7fffffff) % 12)
    expect(partitionFor("0", 7)).toBe(971027396 % 7)
  })
})

describe("EventLogMemory specifics", () => {
  const bytes = (s: string) => new TextEncoder().encode(s)

  it.effect("creates the topics it is given, with their partition counts", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      yield* log.produce("t", [{ key: "k", value: bytes("v") }])
      expect((yield* log.endOffsets("t")).length).toBe(5)
    }).pipe(Effect.provide(layerMemory({ topics: { t: 5 } }))))

  it.scoped("refuses an unknown topic as a broker without auto-creation does: produce, subscribe, endOffsets", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const refused = yield* Effect.all([
        Effect.flip(log.produce("t", [{ key: "k", value: bytes("v") }])),
        Effect.flip(log.subscribe({ group: "g", topics: ["t"] })),
        Effect.flip(log.endOffsets("t"))
      ])
      expect(refused.map((e) => [e._tag, e.operation])).toEqual([
        ["EventLogError", "produce"],
        ["EventLogError", "subscribe"],
        ["EventLogError", "endOffsets"]
      ])
      yield* log.ensureTopic("t", 2)
      expect(yield* log.produce("t", [{ key: "k", value: bytes("v") }])).toHaveLength(1)
    }).pipe(Effect.provide(layerMemory())))

  it.effect("a second member of an active group is refused; after the first leaves, it may join", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const first = yield* Effect.scoped(
        Effect.gen(function*() {
          yield* log.subscribe({ group: "g", topics: ["t"] })
          return yield* Effect.exit(Effect.scoped(log.subscribe({ group: "g", topics: ["t"] })))
        })
      )
      expect(Exit.isFailure(first)).toBe(true)
      const second = yield* Effect.exit(Effect.scoped(log.subscribe({ group: "g", topics: ["t"] })))
      expect(Exit.isSuccess(second)).toBe(true)
    }).pipe(Effect.provide(layerMemory({ topics: { t: 1 } }))))

  it.scoped("fromBeginning: false starts a new group at the end", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      yield* log.ensureTopic("t", 1)
      yield* log.produce("t", [{ key: "k", value: bytes("old") }])
      const subscription = yield* log.subscribe({ group: "g", topics: ["t"], fromBeginning: false })
      yield* log.produce("t", [{ key: "k", value: bytes("new") }])
      const [record] = Chunk.toReadonlyArray(yield* subscription.records.pipe(Stream.take(1), Stream.runCollect))
      expect(record?.offset).toBe(1)
    }).pipe(Effect.provide(layerMemory())))

  it.scoped("consecutive messages with equal headers share one headers object; each record keeps its own headers", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      yield* log.ensureTopic("t", 1)
      const given = [{ eventType: "A" }, { eventType: "A" }, { eventType: "B" }, { eventType: "A", extra: "x" }, undefined, { eventType: "A" }]
      yield* log.produce("t", given.map((headers, i) => ({ key: "k", value: bytes(`${i}`), ...(headers === undefined ? {} : { headers }) })))
      const subscription = yield* log.subscribe({ group: "g", topics: ["t"] })
      const records = Chunk.toReadonlyArray(yield* subscription.records.pipe(Stream.take(given.length), Stream.runCollect))
      // Plus the produce's own `traceparent`.
      expect(records.map(({ headers: { traceparent: _, ...rest } }) => rest)).toEqual(given.map((headers) => headers ?? {}))
      expect(records[1]!.headers).toBe(records[0]!.headers)
      expect(new Set(records.map((r) => r.headers)).size).toBe(5)
    }).pipe(Effect.provide(layerMemory())))
})
