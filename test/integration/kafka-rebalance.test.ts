import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref, Schedule, Stream } from "effect"
import { type ConsumerGroup, deadLetterTopic, notificationService } from "../../src/domain/Consumers.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import * as ConsumerEngine from "../../src/services/ConsumerEngine.js"
import { EventLog, type Rebalance } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { unique } from "../support/unique.js"
import { event, message } from "../engine/fixtures.js"
import { kafkaLayer, withProductEventsAs } from "./kafka-support.js"

/**
 * A second member joining the group: kafkajs rebalances eagerly, so the first member sees its
 * partitions revoked (and commits what it finished) before it is assigned its share.
 */

const partitions = 12
const lanes = 8
const laneCapacity = 16
const sorted = (rebalance: Rebalance | undefined) => (rebalance?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b)

const waitUntil = <A>(ref: Ref.Ref<A>, done: (a: A) => boolean, what: string) =>
  Ref.get(ref).pipe(
    Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: done }),
    Effect.zipRight(Ref.get(ref)),
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error(`timed out waiting for ${what}`) })
  )

layer(Layer.merge(kafkaLayer({ heartbeatInterval: "300 millis" }), Metrics.Default), {
  excludeTestServices: true,
  timeout: "60 seconds"
})("rebalancing on Kafka", (it) => {
  it.scoped("a joining member: the first sees Revoked (all) then Assigned (its share); shares are disjoint", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const topic = unique("rebalance")
      const group = unique("g")
      yield* log.ensureTopic(topic, partitions)
      const join = Effect.gen(function*() {
        const seen = yield* Ref.make<ReadonlyArray<Rebalance>>([])
        const subscription = yield* log.subscribe({ group, topics: [topic] })
        yield* subscription.rebalances.pipe(Stream.runForEach((r) => Ref.update(seen, (all) => [...all, r])), Effect.forkScoped)
        yield* subscription.records.pipe(Stream.runDrain, Effect.forkScoped)
        return seen
      })
      const first = yield* join
      yield* waitUntil(first, (all) => all.length >= 1, "the first assignment")
      const second = yield* join
      const [a, b] = [
        yield* waitUntil(first, (all) => all.length >= 3, "the first member's revocation and new assignment"),
        yield* waitUntil(second, (all) => all.length >= 1, "the second member's assignment")
      ]
      expect(a.map((r) => r._tag)).toEqual(["Assigned", "Revoked", "Assigned"])
      expect(sorted(a[0])).toEqual([...Array(partitions).keys()])
      expect(sorted(a[1])).toEqual([...Array(partitions).keys()])
      const shares = [...sorted(a[2]), ...sorted(b.at(-1))].sort((x, y) => x - y)
      expect(shares).toEqual([...Array(partitions).keys()])
      expect(sorted(a[2]).length).toBeGreaterThan(0)
      expect(sorted(b.at(-1)).length).toBeGreaterThan(0)
    }))

  it.effect("two engines in one group: every event handled, the first member's finished work not redone", () =>
    Effect.gen(function*() {
      const log = yield* EventLog
      const topic = unique("handover")
      const group = unique("g")
      yield* log.ensureTopic(topic, partitions)
      yield* log.ensureTopic(deadLetterTopic(group as ConsumerGroup), 1)
      const events = Array.from({ length: 20 }, (_, n) => Array.from({ length: 60 }, (_, s) => event(`seller_${s}`, n))).flat()
      yield* log.produce(topic, events.map(message))

      const handled = yield* Ref.make<ReadonlyArray<string>>([])
      const engine = () =>
        ConsumerEngine.run({
          contract: { ...notificationService, group: group as ConsumerGroup },
          lanes,
          laneCapacity,
          // Only revocations and shutdowns commit: what the first member did is not redone only if its revocation committed.
          commitInterval: "1 hour",
          handle: (e: ProductEvent) =>
            Effect.sleep("5 millis").pipe(Effect.zipRight(Ref.update(handled, (all) => [...all, e.eventId])))
        }).pipe(Effect.provide(withProductEventsAs(topic)), Effect.fork)
      const first = yield* engine()
      const before = (yield* waitUntil(handled, (all) => all.length >= 300, "the first engine to start")).length
      const second = yield* engine()
      const distinct = new Set(events.map((e) => e.eventId))
      const all = yield* waitUntil(handled, (ids) => new Set(ids).size >= distinct.size, "every event")
      yield* Fiber.interrupt(first)
      yield* Fiber.interrupt(second)
      // At-least-once: what the first member had dispatched but not finished below its watermark is redone,
      // about a lane's worth of records per lane; far fewer than it finished before the handover.
      expect(new Set(all).size).toBe(distinct.size)
      expect(all.length - distinct.size).toBeLessThanOrEqual(lanes * (laneCapacity + 1))
      expect(all.length - distinct.size).toBeLessThan(before)
    }))
})
