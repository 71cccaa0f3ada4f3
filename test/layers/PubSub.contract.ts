import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, type Layer, Stream } from "effect"
import { defaultSubscriberBuffer, PubSub } from "../../src/services/PubSub.js"
import { unique } from "../support/unique.js"

const take = (stream: Stream.Stream<string>, n: number) =>
  Effect.map(Stream.runCollect(Stream.take(stream, n)), Chunk.toReadonlyArray)

export const pubSubContract = <E>(name: string, layer: Layer.Layer<PubSub, E>) =>
  describe(name, () => {
    it.layer(layer)((it) => {
      it.scoped("a subscription is active when subscribe returns: messages published next arrive in order", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const channel = unique("channel")
          const messages = yield* pubsub.subscribe(channel)
          yield* Effect.forEach(["a", "b", "c"], (m) => pubsub.publish(channel, m))
          expect(yield* take(messages, 3)).toEqual(["a", "b", "c"])
        }))

      it.scoped("publishMany delivers each message to its channel's subscribers, in order", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const [one, two] = [unique("channel"), unique("channel")]
          const [first, second] = yield* Effect.all([pubsub.subscribe(one), pubsub.subscribe(two)])
          yield* pubsub.publishMany([
            { channel: one, message: "a" },
            { channel: two, message: "x" },
            { channel: one, message: "b" },
            { channel: unique("channel"), message: "nobody listens" }
          ])
          yield* pubsub.publishMany([])
          expect(yield* take(first, 2)).toEqual(["a", "b"])
          expect(yield* take(second, 1)).toEqual(["x"])
        }))

      it.scoped("every subscriber of a channel gets every message; other channels get none", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const channel = unique("channel")
          const other = unique("channel")
          const subscribers = yield* Effect.all(Array.from({ length: 3 }, () => pubsub.subscribe(channel)))
          const bystander = yield* pubsub.subscribe(other)
          const sent = Array.from({ length: 50 }, (_, i) => `m${i}`)
          yield* Effect.forEach(sent, (m) => pubsub.publish(channel, m))
          yield* pubsub.publish(other, "for the bystander")
          const received = yield* Effect.forEach(subscribers, (s) => take(s, sent.length), { concurrency: "unbounded" })
          for (const r of received) expect(r).toEqual(sent)
          expect(yield* take(bystander, 1)).toEqual(["for the bystander"])
        }))

      it.scoped("publishing with no subscriber succeeds; a later subscriber does not get the message", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const channel = unique("channel")
          yield* pubsub.publish(channel, "before")
          const messages = yield* pubsub.subscribe(channel)
          yield* pubsub.publish(channel, "after")
          expect(yield* take(messages, 1)).toEqual(["after"])
        }))

      it.scoped("leaving the scope unsubscribes and ends the stream; other subscribers go on", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const channel = unique("channel")
          const staying = yield* pubsub.subscribe(channel)
          const leaving = yield* Effect.scoped(pubsub.subscribe(channel))
          yield* pubsub.publish(channel, "after leaving")
          const left = yield* Effect.map(Stream.runCollect(leaving), Chunk.toReadonlyArray)
          expect(left).not.toContain("after leaving")
          expect(yield* take(staying, 1)).toEqual(["after leaving"])
        }))

      it.scoped("a consumer waiting on the stream is woken by a later publish", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const channel = unique("channel")
          const messages = yield* pubsub.subscribe(channel)
          const consumer = yield* Effect.fork(take(messages, 2))
          yield* Effect.yieldNow()
          yield* pubsub.publish(channel, "x")
          yield* pubsub.publish(channel, "y")
          expect(yield* Fiber.join(consumer)).toEqual(["x", "y"])
        }))

      it.scoped("a subscriber that does not read never blocks publishers and keeps a bounded, ordered buffer", () =>
        Effect.gen(function*() {
          const pubsub = yield* PubSub
          const channel = unique("channel")
          const slow = yield* pubsub.subscribe(channel)
          const witness = yield* pubsub.subscribe(channel)
          const count = defaultSubscriberBuffer * 3
          yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) => pubsub.publish(channel, `${i}`))
          yield* pubsub.publish(channel, "last")
          // delivery may trail publish (a broker in between): once a second subscriber has "last", so has the slow one
          yield* Stream.runDrain(Stream.takeUntil(witness, (m) => m === "last"))
          const received = yield* Effect.map(
            Stream.runCollect(Stream.takeUntil(slow, (m) => m === "last")),
            Chunk.toReadonlyArray
          )
          expect(received[received.length - 1]).toBe("last")
          expect(received.length).toBeLessThanOrEqual(defaultSubscriberBuffer)
          const numbers = received.slice(0, -1).map(Number)
          expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
        }))
    })
  })
