import { describe, expect, inject, layer } from "@effect/vitest"
import { randomUUID } from "node:crypto"
import { ConfigProvider, Effect, Fiber, Layer, Option } from "effect"
import { decodeArchive } from "../../src/domain/ArchiveEncoding.js"
import { analyticsService, type ConsumerGroup } from "../../src/domain/Consumers.js"
import type { SellerId } from "../../src/domain/Ids.js"
import { combineAll, deltaOf, hourOf, type LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { deltaItems, fromStoreItems } from "../../src/domain/SellerMetrics.js"
import * as MetricsStoreDynamo from "../../src/layers/MetricsStoreDynamo.js"
import * as ObjectStoreS3 from "../../src/layers/ObjectStoreS3.js"
import { AnalyticsArchive, consumerOptions } from "../../src/services/AnalyticsArchive.js"
import { hourFolder } from "../../src/services/analytics/ArchiveKeys.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import { ObjectStore } from "../../src/services/ObjectStore.js"
import * as AnalyticsWorkerPool from "../../src/workers/AnalyticsWorkerPool.js"
import { unique } from "../support/unique.js"
import { encode, lifecycles as sharedLifecycles } from "../support/events.js"
import { liveEnv, requireServers } from "../support/servers.js"
import { kafkaLayer, waitFor, withProductEventsAs } from "./kafka-support.js"

/**
 * analytics-service's consumer (wired as in src/app/Analytics.ts) on the real servers: Kafka, metrics in
 * DynamoDB, archive objects in S3, aggregation and encoding in worker threads. Each test has its own
 * topic, group, bucket and sellers; archives roll after 300 ms of idleness.
 */
const env = inject("liveEnv") ?? liveEnv()
await requireServers(["kafka", "dynamodb", "s3"], env)

const aws = {
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
}
const hex = () => randomUUID().replaceAll("-", "").slice(0, 16)
const infra = Layer.mergeAll(
  kafkaLayer(),
  Metrics.Default,
  MetricsStoreDynamo.layer({ ...aws, endpoint: env.DYNAMODB_ENDPOINT, tableName: `test-${hex()}-metrics` }),
  AnalyticsWorkerPool.layer({ size: 2 })
)
/** A bucket of the test's own: archive keys derive from partition and offsets, which every test topic repeats. */
const freshBucket = () => ObjectStoreS3.layer({ ...aws, endpoint: env.S3_ENDPOINT, bucket: `product-events-test-${hex()}` })

const archiveSettings = ConfigProvider.fromMap(new Map([["ARCHIVE_IDLE", "300 millis"], ["ARCHIVE_TICK", "100 millis"]]))

/** The analytics consumer as AnalyticsConsumer builds it, on the given log, under a group of the test's own. */
const startConsumer = (group: ConsumerGroup, log: Layer.Layer<EventLog, never, EventLog>) =>
  Effect.gen(function*() {
    const archive = yield* AnalyticsArchive
    return yield* ConsumerEngine.run({ ...consumerOptions(archive), contract: { ...analyticsService, group } })
  }).pipe(Effect.provide(AnalyticsArchive.Default), Effect.scoped, Effect.provide(log), Effect.withConfigProvider(archiveSettings), Effect.fork)

/** The surrounding EventLog whose commits are lost, as in a crash before any commit. */
const commitsLost = Layer.effect(
  EventLog,
  Effect.map(EventLog, (log) =>
    EventLog.of({
      ...log,
      subscribe: (options) => Effect.map(log.subscribe(options), (s) => ({ ...s, commit: () => Effect.void }))
    }))
)

const lifecycles = (sellers: ReadonlyArray<string>) => sharedLifecycles(sellers) as ReadonlyArray<ReadonlyArray<LifecycleEvent>>

const produceAll = (topic: string, events: ReadonlyArray<LifecycleEvent>) =>
  Effect.flatMap(EventLog, (log) =>
    log.produce(
      topic,
      events.map((e) => ({ key: e.data.sellerId, value: new TextEncoder().encode(JSON.stringify(encode(e))), headers: { eventType: e.eventType } }))
    ))

/** Every archived event id, with the key of its object; fails on a line outside its object's date/hour folder. */
const archived = Effect.gen(function*() {
  const objects = yield* ObjectStore
  const keys: Array<string> = []
  const ids: Array<string> = []
  for (const { key } of yield* objects.list("")) {
    keys.push(key)
    expect(key).toMatch(/^events\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[^/]+\.ndjson\.gz$/)
    for (const line of decodeArchive(Option.getOrThrow(yield* objects.get(key)))) {
      const event = JSON.parse(line) as { eventId: string; timestamp: string }
      expect(key.startsWith(hourFolder(hourOf(event.timestamp)))).toBe(true)
      ids.push(event.eventId)
    }
  }
  return { keys, ids }
})

const sameIds = (ids: ReadonlyArray<string>, events: ReadonlyArray<LifecycleEvent>) =>
  JSON.stringify([...ids].sort()) === JSON.stringify(events.map((e) => e.eventId).sort())

/** The hot metrics equal a fold of each seller's events. */
const expectMetricsFold = (sellers: ReadonlyArray<string>, lives: ReadonlyArray<ReadonlyArray<LifecycleEvent>>) =>
  Effect.gen(function*() {
    const store = yield* MetricsStore
    for (const [i, seller] of sellers.entries()) {
      const expected = fromStoreItems(seller as SellerId, deltaItems(combineAll(lives[i]!.map(deltaOf))))
      const actual = fromStoreItems(seller as SellerId, yield* store.query(seller, ""))
      expect(actual).toEqual(expected)
    }
  })

/** A fresh topic and group, with the sellers' events produced to it. */
const setup = (sellerCount: number) =>
  Effect.gen(function*() {
    const log = yield* EventLog
    const topic = unique("analytics")
    const group = unique("g") as ConsumerGroup
    yield* log.ensureTopic(topic, 3)
    const sellers = Array.from({ length: sellerCount }, (_, i) => unique(`an${i}`))
    const lives = lifecycles(sellers)
    const events = lives.flat()
    yield* produceAll(topic, events)
    return { log, topic, group, sellers, lives, events }
  })

const consumedDone = (metrics: Metrics, group: string) =>
  Effect.promise(() => metrics.consumed.get()).pipe(
    Effect.map((m) => m.values.filter((v) => v.labels["group"] === group && v.labels["outcome"] === "done").reduce((n, v) => n + v.value, 0))
  )

const allCommitted = (log: EventLog["Type"], group: string, topic: string) =>
  Effect.gen(function*() {
    const ends = (yield* log.endOffsets(topic)).filter((e) => e.offset > 0)
    const committed = yield* log.committed(group, topic)
    return ends.length > 0 && ends.every((e) => committed.some((c) => c.partition === e.partition && c.offset === e.offset))
  })

describe("analytics consumer on Kafka, DynamoDB and S3", () => {
  layer(infra, { excludeTestServices: true, timeout: "45 seconds" })((it) => {
    it.effect("archives each event exactly once under date/hour keys, and the metrics equal a fold of the events", () =>
      Effect.gen(function*() {
        const { events, group, lives, log, sellers, topic } = yield* setup(4)
        const consumer = yield* startConsumer(group, withProductEventsAs(topic))
        const { ids, keys } = yield* waitFor("every event in the bucket", archived, ({ ids }) => sameIds(ids, events))
        yield* waitFor("every record committed", allCommitted(log, group, topic), (ok) => ok)
        yield* Fiber.interrupt(consumer)

        expect(ids).toHaveLength(events.length)
        expect(new Set(keys.map((k) => k.slice(0, k.lastIndexOf("/") + 1)))).toEqual(
          new Set(["events/date=2026-11-26/hour=20/", "events/date=2026-11-26/hour=21/"])
        )
        yield* expectMetricsFold(sellers, lives)
      }).pipe(Effect.provide(freshBucket())))

    it.effect("counts and archives nothing twice when a restart redelivers everything (commits lost in a crash)", () =>
      Effect.gen(function*() {
        const { events, group, lives, log, sellers, topic } = yield* setup(4)

        const crashing = yield* startConsumer(group, Layer.provide(commitsLost, withProductEventsAs(topic)))
        yield* waitFor("every event in the bucket", archived, ({ ids }) => sameIds(ids, events))
        yield* Fiber.interrupt(crashing)
        const committed = yield* log.committed(group, topic)
        expect(committed).toHaveLength(3)
        expect(committed.filter((c) => c.offset > 0)).toEqual([])
        yield* expectMetricsFold(sellers, lives)
        const before = yield* archived
        const metrics = yield* Metrics
        const doneSoFar = yield* consumedDone(metrics, group)
        expect(doneSoFar).toBe(events.length)

        const restarted = yield* startConsumer(group, withProductEventsAs(topic))
        yield* waitFor("the redelivered records committed", allCommitted(log, group, topic), (ok) => ok, 30)
        yield* Fiber.interrupt(restarted)

        // Every record was delivered again, and finished at once: its object was uploaded already.
        expect(yield* consumedDone(metrics, group)).toBe(2 * events.length)
        const after = yield* archived
        expect(after.keys).toEqual(before.keys)
        expect(after.ids).toHaveLength(events.length)
        expect(sameIds(after.ids, events)).toBe(true)
        yield* expectMetricsFold(sellers, lives)
      }).pipe(Effect.provide(freshBucket())))
  })
})
