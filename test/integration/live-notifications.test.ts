import { afterAll, describe, expect, inject, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Queue, Ref, Stream } from "effect"
import { type ConsumerGroup, deadLetterTopic, notificationService } from "../../src/domain/Consumers.js"
import type { StoredNotification } from "../../src/domain/Notification.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import * as NotificationStoreDynamo from "../../src/layers/NotificationStoreDynamo.js"
import * as PubSubRedis from "../../src/layers/PubSubRedis.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { NotificationFeed } from "../../src/services/NotificationFeed.js"
import { NotificationService } from "../../src/services/NotificationService.js"
import { NotificationStore } from "../../src/services/NotificationStore.js"
import { unique } from "../support/unique.js"
import { baseMillis, created, encode, lowStock } from "../support/events.js"
import { startFaultProxy } from "../support/faultProxy.js"
import { endpoints, liveEnv, requireServers } from "../support/servers.js"
import { kafkaLayer, waitFor, withProductEventsAs } from "./kafka-support.js"

/**
 * notification-service on the real servers: retries through a real network fault between the store
 * layer and DynamoDB (a TCP proxy that resets connections), and Last-Event-ID replay from the real
 * store followed by live notifications from Redis. Fresh tables, topic, group and sellers per run.
 */
const env = inject("liveEnv") ?? liveEnv()
await requireServers(["kafka", "redis", "dynamodb"], env)

const proxy = await startFaultProxy(endpoints(env).find((e) => e.name === "dynamodb")!)
afterAll(() => proxy.close())

const run = unique("n").slice(2, 14)
const aws = {
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
}
const storeLayer = (endpoint: string) =>
  NotificationStoreDynamo.layer({
    ...aws,
    endpoint,
    tableName: `test-${run}-notifications`,
    countersTableName: `test-${run}-notification-counters`
  })
const services = (endpoint: string) =>
  Layer.mergeAll(NotificationService.Default, NotificationFeed.Default).pipe(
    Layer.provideMerge(Layer.mergeAll(storeLayer(endpoint), PubSubRedis.layer({ url: env.REDIS_URL })))
  )

const messageOf = (event: ProductEvent) => ({
  key: event.data.sellerId,
  value: new TextEncoder().encode(JSON.stringify(encode(event))),
  headers: { eventType: event.eventType }
})

const counterValue = (metric: Metrics["retried"] | Metrics["consumed"], labels: Record<string, string>) =>
  Effect.promise(() => metric.get()).pipe(
    Effect.map((m) =>
      m.values
        .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
        .reduce((n, v) => n + v.value, 0)
    )
  )

describe("notification consumer with a network fault before DynamoDB", () => {
  layer(Layer.mergeAll(kafkaLayer(), Metrics.Default, services(proxy.url)), { excludeTestServices: true, timeout: "60 seconds" })(
    (it) => {
      it.effect("retries while the store is unreachable, then stores the notification once, no dead letter", () =>
        Effect.gen(function*() {
          const log = yield* EventLog
          const metrics = yield* Metrics
          const store = yield* NotificationStore
          const service = yield* NotificationService
          const topic = unique("notify")
          const group = unique("g") as ConsumerGroup
          const dlq = deadLetterTopic(group)
          yield* log.ensureTopic(topic, 3)
          yield* log.ensureTopic(dlq, 1)
          const dlqBefore = yield* log.endOffsets(dlq)

          const attempts = yield* Ref.make(0)
          const failures = yield* Ref.make(0)
          const engine = yield* ConsumerEngine.run({
            contract: { ...notificationService, group },
            handle: (event) =>
              Ref.update(attempts, (n) => n + 1).pipe(
                Effect.zipRight(service.handle(event)),
                Effect.tapError(() => Ref.update(failures, (n) => n + 1))
              )
          }).pipe(Effect.provide(withProductEventsAs(topic)), Effect.fork)

          const seller = unique("faulty")
          const warning = lowStock(seller, "lamp", Date.now())
          proxy.pause()
          yield* log.produce(topic, [messageOf(warning)])
          yield* waitFor("a failed attempt against the paused proxy", Ref.get(failures), (n) => n >= 1, 30)
          // Within the policy's budget (retries after ~0.5, 1.5, 3.5, 7.5, 15.5 s): a retry fails too.
          yield* waitFor("a failed retry against the paused proxy", Ref.get(failures), (n) => n >= 2, 30)
          proxy.resume()

          const stored = yield* waitFor("the notification in DynamoDB", store.get(seller, warning.eventId), Option.isSome)
          const used = (yield* log.endOffsets(topic)).filter((e) => e.offset > 0)
          expect(used).toHaveLength(1)
          yield* waitFor("the record committed", log.committed(group, topic), (c) =>
            used.every((e) => c.some((x) => x.partition === e.partition && x.offset === e.offset)))
          yield* Fiber.interrupt(engine)

          expect(Option.getOrThrow(stored)).toMatchObject({ id: warning.eventId, severity: "urgent" })
          expect(yield* store.list(seller, { limit: 10, order: "asc" })).toHaveLength(1)
          expect(proxy.refused()).toBeGreaterThan(0)
          expect(yield* Ref.get(failures)).toBeGreaterThanOrEqual(2)
          expect(yield* Ref.get(attempts)).toBe((yield* Ref.get(failures)) + 1)
          expect(yield* counterValue(metrics.retried, { group })).toBeGreaterThan(0)
          expect(yield* counterValue(metrics.consumed, { group, outcome: "done" })).toBe(1)
          expect(yield* counterValue(metrics.consumed, { group, outcome: "dead_lettered" })).toBe(0)
          expect(yield* log.endOffsets(dlq)).toEqual(dlqBefore)
        }))
    }
  )
})

const takeN = <A>(queue: Queue.Queue<A>, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => Queue.take(queue)).pipe(
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`fewer than ${n} notifications in the feed`) })
  )

describe("Last-Event-ID replay from DynamoDB, then live from Redis", () => {
  const direct = endpoints(env).find((e) => e.name === "dynamodb")!
  layer(services(`http://${direct.host}:${direct.port}`), { excludeTestServices: true, timeout: "30 seconds" })((it) => {
    it.scoped("replays exactly the notifications after the given id, then the live one, with no duplicate", () =>
      Effect.gen(function*() {
        const service = yield* NotificationService
        const feed = yield* NotificationFeed
        const seller = unique("replay")
        const events = Array.from({ length: 6 }, (_, i) => created(seller, `p${i}`, baseMillis + i))
        yield* Effect.forEach(events, (e) => service.handle(e), { discard: true })

        const received = yield* Queue.unbounded<StoredNotification>()
        const stream = yield* feed.open(seller, Option.some(events[1]!.eventId))
        yield* Stream.runForEach(stream, (n) => Queue.offer(received, n)).pipe(Effect.forkScoped)

        const replayed = yield* takeN(received, 4)
        expect(replayed.map((n) => n.id)).toEqual(events.slice(2).map((e) => e.eventId))
        const seqs = replayed.map((n) => n.seq)
        expect(new Set(seqs).size).toBe(seqs.length)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))

        const late = created(seller, "p_late", baseMillis + 100)
        yield* service.handle(late)
        const [live] = yield* takeN(received, 1)
        expect(live!.id).toBe(late.eventId)
        expect(live!.seq).toBeGreaterThan(replayed[replayed.length - 1]!.seq)

        // A redelivered event is published again: the feed drops what it has sent. The feed is in
        // order, so a duplicate it let through would arrive before the marker handled after them.
        yield* service.handle(late)
        yield* service.handle(events[3]!)
        const marker = created(seller, "p_marker", baseMillis + 200)
        yield* service.handle(marker)
        const [next] = yield* takeN(received, 1)
        expect(next!.id).toBe(marker.eventId)
        expect(yield* Queue.size(received)).toBe(0)
      }))
  })
})
